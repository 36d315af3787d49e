#!/usr/bin/env python3
"""Benchmarks: planning at the API budget against its peers, the local CPU path, and startup.

    python tests/benchmarks/run.py [--quick] [--json]

- network: one plan of an estate against the sandbox with AWS's quotas and a realistic latency
  (100 ms, as from a GitHub-hosted runner; --latency-ms to change it) switched on, for the
  reconciler and for the ways people do it without it. The floor is one ListAliases per function
  at the budget: functions / rate seconds. Under `apply`: one apply that moves every function's
  alias, each write guarded by its RevisionId, against a careful script's GetAlias + UpdateAlias;
  the floor is 2 calls per function at the budget.
- cpu: load + validate + plan of a large estate against an in-memory live snapshot, and the same
  done naively (pure-Python YAML loader, deepdiff on every alias). Each runs in its own process, so
  its peak memory is its own.
- startup: `reconcile --help`, `reconcile validate manifests/`, validate against the bare C YAML
  parse of the same large estate, and `reconcile plan --sandbox` against validate, of manifests/
  and of a 1,000-alias estate.

Prints a table; with --json the last line is one JSON object. Figures, never assertions: timings on
shared machines are noisy, so nothing here fails because something was slow.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ACCOUNT, REGION = "123456789012", "eu-west-1"
ALIASES_PER_FUNCTION = 3
SANDBOX_ESTATE_FUNCTIONS = 200  # startup's plan --sandbox at 1,000 aliases


@dataclass(frozen=True)
class Scale:
    functions: int  # network estate
    rate_factor: float  # quotas (and the reconciler's --rate) multiplied by this
    latency_ms: float
    cpu_functions: int  # cpu estate, 5 aliases each


# 100 ms a call: GitHub-hosted runners, where this tool runs, reach AWS over the internet.
FULL = Scale(functions=300, rate_factor=1.0, latency_ms=100, cpu_functions=20_000)
# Quick: the rate four times higher and latency four times lower keep every ratio of the full run.
QUICK = Scale(functions=60, rate_factor=4.0, latency_ms=25, cpu_functions=4_000)


# -- network -------------------------------------------------------------------------------------


def network(scale: Scale) -> dict[str, Any]:
    import boto3  # imported before any peer is timed: they share this process

    import reconciler.cli
    import reconciler.planner
    from reconciler.sandbox import Sandbox

    del boto3, reconciler

    rate = 15.0 * scale.rate_factor
    names = [f"service-{i:04d}" for i in range(scale.functions)]
    with Sandbox(region=REGION) as sandbox, tempfile.TemporaryDirectory() as tmp:
        sandbox.seed(
            {
                "region": REGION,
                "functions": [
                    {
                        "name": name,
                        "versions": 2,
                        "aliases": [
                            {"name": alias, "version": 1 + i % 2}
                            for i, alias in enumerate(
                                ["live", "beta", "dev"][:ALIASES_PER_FUNCTION]
                            )
                        ],
                    }
                    for name in names
                ],
            }
        )
        manifests = Path(tmp)
        for name in names:
            aliases = "".join(
                f"  - {{name: {alias}, version: {1 + i % 2}}}\n"
                for i, alias in enumerate(["live", "beta", "dev"][:ALIASES_PER_FUNCTION])
            )
            (manifests / f"{name}.yaml").write_text(
                f"function: {name}\nregion: {REGION}\naliases:\n{aliases}", encoding="utf-8"
            )
        env = _use_sandbox(sandbox.url)
        peers: dict[str, Callable[[], int]] = {
            "reconciler": lambda: _reconciler_plan(manifests, rate),
            "naive_boto3": lambda: _naive_boto3(names),
            "awscli_loop": lambda: _awscli_loop(names, env),
            "terraform_pattern": lambda: _terraform_pattern(names),
        }
        results: dict[str, Any] = {
            "functions": scale.functions,
            "aliases": scale.functions * ALIASES_PER_FUNCTION,
            "rate": rate,
            "latency_ms": scale.latency_ms,
            "floor_s": round(scale.functions / rate, 3),
        }
        for name, run in peers.items():
            if name == "awscli_loop" and not _has_awscli():
                results[name] = {"skipped": "awscli is not installed: pip install -e '.[bench]'"}
                continue
            sandbox.set_quotas({"GetFunction": 100.0 * scale.rate_factor, "*": rate})
            sandbox.set_latency(scale.latency_ms)
            results[name] = _measure(sandbox, run)
            time.sleep(1.0)  # let the server's buckets refill before the next peer
        results["terraform_pattern"]["note"] = (
            "a model of how Terraform refreshes aws_lambda_alias: one GetAlias per alias, "
            "parallelism 10, default retries"
        )
        return results


def apply_network(scale: Scale) -> dict[str, Any]:
    """One apply that moves every function's `live` alias from version 1 to 2, each write guarded
    by the alias's RevisionId, as the reconciler does and as a careful script would (GetAlias,
    then UpdateAlias with its RevisionId): 2 calls per function, so the floor is 2F / rate."""
    from reconciler.sandbox import Sandbox

    rate = 15.0 * scale.rate_factor
    names = [f"service-{i:04d}" for i in range(scale.functions)]
    seed = {
        "region": REGION,
        "functions": [
            {"name": n, "versions": 2, "aliases": [{"name": "live", "version": 1}]} for n in names
        ],
    }
    with Sandbox(region=REGION) as sandbox, tempfile.TemporaryDirectory() as tmp:
        manifests = Path(tmp)
        for name in names:
            (manifests / f"{name}.yaml").write_text(
                f"function: {name}\nregion: {REGION}\naliases:\n  - {{name: live, version: 2}}\n",
                encoding="utf-8",
            )
        env = _use_sandbox(sandbox.url)
        peers: dict[str, Callable[[], int]] = {
            "reconciler": lambda: _reconciler_apply(manifests, rate),
            "naive_boto3": lambda: _naive_boto3_apply(names),
            "awscli_loop": lambda: _awscli_apply(names, env),
        }
        results: dict[str, Any] = {
            "functions": scale.functions,
            "rate": rate,
            "latency_ms": scale.latency_ms,
            "floor_s": round(2 * scale.functions / rate, 3),
        }
        for name, run in peers.items():
            if name == "awscli_loop" and not _has_awscli():
                results[name] = {"skipped": "awscli is not installed: pip install -e '.[bench]'"}
                continue
            sandbox.reset()
            sandbox.seed(seed)
            sandbox.set_quotas({"GetFunction": 100.0 * scale.rate_factor, "*": rate})
            sandbox.set_latency(scale.latency_ms)
            time.sleep(1.0)  # the server's buckets full, as for every peer
            # GetFunction (the pre-flight checks) draws on a budget of its own.
            results[name] = _measure(sandbox, run, leave_out=("GetFunction",))
        return results


def _reconciler_apply(manifests: Path, rate: float) -> int:
    from reconciler.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["apply", str(manifests), "--rate", str(rate), "--auto-approve"])
    return 0 if code == 0 else 1


def _naive_boto3_apply(names: list[str]) -> int:
    client, failed = _client(), 0
    for name in names:
        try:
            revision = client.get_alias(FunctionName=name, Name="live")["RevisionId"]
            client.update_alias(
                FunctionName=name, Name="live", FunctionVersion="2", RevisionId=revision
            )
        except Exception:
            failed += 1
    return failed


def _awscli_apply(names: list[str], env: dict[str, str]) -> int:
    failed = 0
    aws = [sys.executable, "-m", "awscli", "lambda"]
    for name in names:
        got = subprocess.run(
            [
                *aws,
                "get-alias",
                "--function-name",
                name,
                "--name",
                "live",
                "--query",
                "RevisionId",
                "--output",
                "text",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )
        put = subprocess.run(
            [
                *aws,
                "update-alias",
                "--function-name",
                name,
                "--name",
                "live",
                "--function-version",
                "2",
                "--revision-id",
                got.stdout.strip(),
            ],
            capture_output=True,
            env={**os.environ, **env},
            check=False,
        )
        failed += got.returncode != 0 or put.returncode != 0
    return failed


def _measure(
    sandbox: Any, run: Callable[[], int], leave_out: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One peer's run: seconds, Lambda control-plane calls, throttled and failed ones."""
    sandbox.reset_stats()
    started = time.perf_counter()
    failed = run()
    seconds = time.perf_counter() - started
    stats = sandbox.stats()
    calls = {op: n for op, n in stats["calls"].items() if ":" not in op and op not in leave_out}
    return {
        "seconds": round(seconds, 3),
        "calls": sum(calls.values()),
        "throttled": sum(stats["throttled"].values()),
        "failed": failed,
    }


def _use_sandbox(url: str) -> dict[str, str]:
    """Point this process (and the peers' subprocesses, given what it returns) at the sandbox."""
    env = {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": url,
    }
    os.environ.update(env)
    return env


def _reconciler_plan(manifests: Path, rate: float) -> int:
    from reconciler.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["plan", str(manifests), "--rate", str(rate), "--detailed-exitcode"])
    return 0 if code == 0 else 1


def _client() -> Any:
    import boto3

    return boto3.client("lambda", region_name=REGION)  # default retries, as people write it


def _naive_boto3(names: list[str]) -> int:
    client, failed = _client(), 0
    for name in names:
        try:
            client.list_aliases(FunctionName=name)
        except Exception:
            failed += 1
    return failed


def _has_awscli() -> bool:
    return importlib.util.find_spec("awscli") is not None


def _awscli_loop(names: list[str], env: dict[str, str]) -> int:
    failed = 0
    for name in names:
        result = subprocess.run(
            [sys.executable, "-m", "awscli", "lambda", "list-aliases", "--function-name", name],
            capture_output=True,
            env={**os.environ, **env},
            check=False,
        )
        failed += result.returncode != 0
    return failed


def _terraform_pattern(names: list[str]) -> int:
    client = _client()

    def get(address: tuple[str, str]) -> int:
        try:
            client.get_alias(FunctionName=address[0], Name=address[1])
        except Exception:
            return 1
        return 0

    addresses = [(n, a) for n in names for a in ["live", "beta", "dev"][:ALIASES_PER_FUNCTION]]
    with ThreadPoolExecutor(10) as pool:
        return sum(pool.map(get, addresses))


# -- cpu -----------------------------------------------------------------------------------------


def write_estate(root: Path, functions: int, per_file: int = 100) -> None:
    """``functions`` manifests of 5 aliases (one weighted), many YAML documents per file."""
    for start in range(0, functions, per_file):
        documents = []
        for n in range(start, min(start + per_file, functions)):
            lines = [f"function: fn-{n:05d}", f"region: {REGION}", "aliases:"]
            for a in range(5):
                lines += [f"  - name: alias-{a}", f"    version: {10 + a}"]
                lines.append(f"    description: alias {a} of function {n}")
                if a == 0:
                    lines.append("    routing: {version: 11, weight: 0.05}")
            documents.append("\n".join(lines) + "\n")
        (root / f"estate-{start // per_file:04d}.yaml").write_text("---\n".join(documents))


def _live_snapshot(functions: int) -> dict[Any, Any]:
    """What the cloud holds: the manifests' aliases, one in twenty on another version."""
    from reconciler.live import FunctionTarget, LiveAlias, LiveFunction, Route

    live = {}
    for n in range(functions):
        target = FunctionTarget(ACCOUNT, REGION, f"fn-{n:05d}")
        aliases = tuple(
            LiveAlias(
                f"alias-{a}",
                str(10 + a) if (n * 5 + a) % 20 else "9",
                f"alias {a} of function {n}",
                Route("11", 0.05) if a == 0 else None,
                f"rev-{n}-{a}",
            )
            for a in range(5)
        )
        live[target] = LiveFunction(target, aliases)
    return live


def _fields(version: str, description: str | None, routing: Any) -> dict[str, Any]:
    weights = None if routing is None else {"version": routing.version, "weight": routing.weight}
    return {"version": version, "description": description, "routing": weights}


def cpu_child(kind: str, estate: Path, functions: int) -> dict[str, float]:
    """Run in a child process: one way of loading, validating and planning, timed."""
    live = _live_snapshot(functions)
    started = time.perf_counter()
    if kind == "reconciler":
        from reconciler.manifests import load_manifests
        from reconciler.planner import plan, resolve

        loaded = load_manifests([estate])
        desired = resolve(loaded.manifests, default_region=REGION, default_account=ACCOUNT)
        changes = len(plan(desired, live).actions)
    else:
        import yaml
        from deepdiff import DeepDiff

        from reconciler.live import FunctionTarget
        from reconciler.spec import FunctionSpec

        changes = 0
        for file in sorted(estate.glob("*.yaml")):
            for document in yaml.load_all(file.read_text(), Loader=yaml.SafeLoader):
                spec = FunctionSpec.model_validate(document)
                target = FunctionTarget(ACCOUNT, REGION, spec.name)
                current = {a.name: a for a in live[target].aliases}
                for alias in spec.aliases:
                    now = current[alias.name]
                    before = _fields(now.version, now.description, now.routing)
                    after = _fields(alias.version, alias.description, alias.routing)
                    changes += bool(DeepDiff(before, after))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(peak, 1), "changes": changes}


def cpu(scale: Scale, estate: Path) -> dict[str, Any]:
    runs = {}
    for kind in ("reconciler", "naive"):
        output = subprocess.run(
            [sys.executable, __file__, "--cpu-child", kind, str(estate), str(scale.cpu_functions)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs[kind] = json.loads(output.strip().splitlines()[-1])
    return {
        "aliases": scale.cpu_functions * 5,
        "functions": scale.cpu_functions,
        "changes": runs["reconciler"]["changes"],
        "reconciler_s": runs["reconciler"]["seconds"],
        "reconciler_peak_rss_mb": runs["reconciler"]["peak_rss_mb"],
        "naive_s": runs["naive"]["seconds"],
        "naive_changes": runs["naive"]["changes"],
        "speedup": round(runs["naive"]["seconds"] / runs["reconciler"]["seconds"], 1),
    }


# -- startup -------------------------------------------------------------------------------------


def _median_of(command: list[str], runs: int = 5) -> float:
    """The median of ``runs`` timed runs, after one untimed run that writes Python's bytecode
    cache, as installing a package does (even where PYTHONDONTWRITEBYTECODE is set: a fresh
    checkout would otherwise compile every module of every run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(command, capture_output=True, check=True, env=env)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def startup(estate: Path) -> dict[str, Any]:
    reconcile = shutil.which("reconcile", path=str(Path(sys.executable).parent)) or "reconcile"
    bare = (
        "import sys, yaml, pathlib\n"
        "for f in sorted(pathlib.Path(sys.argv[1]).glob('*.yaml')):\n"
        "    list(yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader))\n"
    )
    validate_large = _median_of([reconcile, "validate", str(estate)], runs=3)
    bare_large = _median_of([sys.executable, "-c", bare, str(estate)], runs=3)
    validate_small = _median_of([reconcile, "validate", str(ROOT / "manifests")])
    bare_small = _median_of([sys.executable, "-c", bare, str(ROOT / "manifests")])
    # The first thing a newcomer runs, and the same at 1,000 aliases (200 functions of 5).
    sandbox_small = _median_of([reconcile, "plan", str(ROOT / "manifests"), "--sandbox"])
    with tempfile.TemporaryDirectory() as tmp:
        thousand = Path(tmp)
        write_estate(thousand, SANDBOX_ESTATE_FUNCTIONS)
        validate_thousand = _median_of([reconcile, "validate", str(thousand)], runs=3)
        sandbox_thousand = _median_of([reconcile, "plan", str(thousand), "--sandbox"], runs=3)
    # The floor for --help: a minimal two-command typer app, as typer renders it by default.
    minimal = (
        "import typer\napp = typer.Typer()\n"
        "@app.command()\ndef a() -> None: ...\n@app.command()\ndef b() -> None: ...\napp()\n"
    )
    return {
        "help_s": _median_of([reconcile, "--help"]),
        "typer_floor_s": _median_of([sys.executable, "-c", minimal, "--help"]),
        "validate_s": validate_small,
        "sandbox_plan_s": sandbox_small,
        "sandbox_plan_over_validate": round(sandbox_small / validate_small, 2),
        "validate_1k_aliases_s": validate_thousand,
        "sandbox_plan_1k_aliases_s": sandbox_thousand,
        "sandbox_plan_over_validate_1k_aliases": round(sandbox_thousand / validate_thousand, 2),
        "bare_parse_s": bare_small,
        "validate_estate_s": validate_large,
        "bare_parse_estate_s": bare_large,
        "validate_over_bare_estate": round(validate_large / bare_large, 2),
    }


# -- report --------------------------------------------------------------------------------------


def _peer_rows(section: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """A row per peer: seconds, times the section's floor, calls, throttled, failed."""
    rows = []
    for name in names:
        row = section[name]
        if "skipped" in row:
            rows.append(f"  {name:<18} skipped: {row['skipped']}")
            continue
        rows.append(
            f"  {name:<18} {row['seconds']:>8.2f} {row['seconds'] / section['floor_s']:>8.2f} "
            f"{row['calls']:>6} {row['throttled']:>9} {row['failed']:>6}"
        )
    return rows


def table(results: dict[str, Any]) -> str:
    net, cpu_, start = results["network"], results["cpu"], results["startup"]
    lines = [
        f"network: {net['functions']} functions, {net['aliases']} aliases, "
        f"{net['rate']:g} req/s, {net['latency_ms']:g} ms latency, floor {net['floor_s']} s",
        f"  {'':<18} {'seconds':>8} {'x floor':>8} {'calls':>6} {'throttled':>9} {'failed':>6}",
    ]
    lines += _peer_rows(net, ("reconciler", "naive_boto3", "awscli_loop", "terraform_pattern"))
    applied = net["apply"]
    lines.append(
        f"apply: {applied['functions']} functions, one guarded update each, floor "
        f"{applied['floor_s']} s"
    )
    lines += _peer_rows(applied, ("reconciler", "naive_boto3", "awscli_loop"))
    lines += [
        f"cpu: {cpu_['aliases']} aliases in {cpu_['functions']} functions, "
        f"{cpu_['changes']} to change",
        f"  reconciler {cpu_['reconciler_s']:.2f} s, peak {cpu_['reconciler_peak_rss_mb']:.0f} MB; "
        f"naive {cpu_['naive_s']:.2f} s ({cpu_['speedup']}x slower)",
        f"startup: --help {start['help_s']:.2f} s (a minimal typer app: "
        f"{start['typer_floor_s']:.2f} s); validate manifests/ {start['validate_s']:.2f} s "
        f"(bare C parse {start['bare_parse_s']:.2f} s); validate estate "
        f"{start['validate_estate_s']:.2f} s (bare C parse {start['bare_parse_estate_s']:.2f} s, "
        f"{start['validate_over_bare_estate']}x)",
        f"  plan --sandbox: manifests/ {start['sandbox_plan_s']:.2f} s "
        f"({start['sandbox_plan_over_validate']}x validate); 1,000 aliases "
        f"{start['sandbox_plan_1k_aliases_s']:.2f} s against validate "
        f"{start['validate_1k_aliases_s']:.2f} s "
        f"({start['sandbox_plan_over_validate_1k_aliases']}x)",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about a minute: smaller, faster")
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--latency-ms", type=float, help="latency per call (default: the scale's)")
    parser.add_argument(
        "--cpu-child", nargs=3, metavar=("KIND", "ESTATE", "FUNCTIONS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.cpu_child:
        kind, estate, functions = args.cpu_child
        print(json.dumps(cpu_child(kind, Path(estate), int(functions))))
        return 0
    scale = QUICK if args.quick else FULL
    if args.latency_ms is not None:
        scale = dataclasses.replace(scale, latency_ms=args.latency_ms)
    with tempfile.TemporaryDirectory() as tmp:
        estate = Path(tmp)
        write_estate(estate, scale.cpu_functions)
        results = {
            "scale": "quick" if args.quick else "full",
            "network": {**network(scale), "apply": apply_network(scale)},
            "cpu": cpu(scale, estate),
            "startup": startup(estate),
        }
    print(table(results))
    if args.json:
        print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
