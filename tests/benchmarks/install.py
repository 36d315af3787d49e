#!/usr/bin/env python3
"""What installing the sandbox costs: time, packages, disk, and import time by package.

    python tests/benchmarks/install.py [--project PATH] [--runs N] [--json]

Installs the project (PATH, default this checkout) into fresh virtual environments with pip's
cache off, without and with the `sandbox` extra, and times each (the best of N). Then, in the
sandbox environment: each package the extra adds, with its installed size and file count (what
pip unpacks), and the import time `import reconciler.sandbox` spends in it (self time from
`python -X importtime`, summed by top-level package). Figures, never assertions.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _venv(where: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    return where / "bin" / "python"


def _install(python: Path, requirement: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-cache-dir", requirement],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _packages(python: Path) -> dict[str, dict[str, Any]]:
    """Each installed distribution: its top-level modules, size and file count (from RECORD)."""
    script = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        "for d in m.distributions():\n"
        "    files = d.files or []\n"
        "    tops = (d.read_text('top_level.txt') or '').split()\n"
        "    if not tops:\n"
        "        tops = sorted({f.parts[0].removesuffix('.py') for f in files\n"
        "                      if f.parts and not f.parts[0].endswith(('.dist-info', '..'))})\n"
        "    out[d.metadata['Name'].lower()] = {\n"
        "        'files': len(files),\n"
        "        'bytes': sum(f.size or 0 for f in files),\n"
        "        'modules': tops,\n"
        "    }\n"
        "print(json.dumps(out))\n"
    )
    answer = subprocess.run([str(python), "-c", script], check=True, capture_output=True)
    packages: dict[str, dict[str, Any]] = json.loads(answer.stdout)
    return packages


def _import_self_times(python: Path, module: str, runs: int) -> dict[str, float]:
    """Seconds of self import time by top-level module, the best of ``runs``."""
    best: dict[str, float] = {}
    line = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")
    for _ in range(runs):
        answer = subprocess.run(
            [str(python), "-I", "-X", "importtime", "-c", f"import {module}"],  # -I: not from cwd
            check=True,
            capture_output=True,
            text=True,
        )
        totals: dict[str, float] = {}
        for match in line.finditer(answer.stderr):
            top = match[2].split(".")[0]
            totals[top] = totals.get(top, 0.0) + int(match[1]) / 1e6
        for top, seconds in totals.items():
            best[top] = min(best.get(top, seconds), seconds)
    return best


def measure(project: Path, runs: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {"core": [], "sandbox": []}
    with tempfile.TemporaryDirectory() as tmp:
        sandbox_python = None
        for n in range(runs):
            for kind, requirement in (("core", str(project)), ("sandbox", f"{project}[sandbox]")):
                python = _venv(Path(tmp) / f"{kind}-{n}")
                times[kind].append(_install(python, requirement))
                if kind == "sandbox":
                    sandbox_python = python
        assert sandbox_python is not None
        core_python = Path(tmp) / "core-0" / "bin" / "python"
        core = _packages(core_python)
        everything = _packages(sandbox_python)
        imports = _import_self_times(sandbox_python, "reconciler.sandbox", runs)
    added = {name: info for name, info in everything.items() if name not in core}
    rows = [
        {
            "package": name,
            "files": info["files"],
            "mb": round(info["bytes"] / 1e6, 2),
            "import_s": round(sum(imports.get(m, 0.0) for m in info["modules"]), 3),
        }
        for name, info in sorted(added.items(), key=lambda item: -item[1]["bytes"])
    ]
    return {
        "install_core_s": round(min(times["core"]), 1),
        "install_sandbox_s": round(min(times["sandbox"]), 1),
        "packages_core": len(core),
        "packages_sandbox": len(everything),
        "import_sandbox_s": round(sum(imports.values()), 3),
        "added_by_sandbox": rows,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"install: core {result['install_core_s']} s ({result['packages_core']} packages), "
        f"with the sandbox extra {result['install_sandbox_s']} s "
        f"({result['packages_sandbox']} packages); import reconciler.sandbox "
        f"{result['import_sandbox_s']} s",
        f"  {'added by [sandbox]':<22} {'files':>6} {'MB':>7} {'import s':>9}",
    ]
    lines += [
        f"  {row['package']:<22} {row['files']:>6} {row['mb']:>7.2f} {row['import_s']:>9.3f}"
        for row in result["added_by_sandbox"]
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="the checkout to install")
    parser.add_argument("--runs", type=int, default=3, help="installs of each kind (best kept)")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    result = measure(args.project.resolve(), args.runs)
    print(table(result))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
