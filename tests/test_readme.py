"""The README's examples, run as written: what it shows a newcomer is what the tool does."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
RECONCILE = [sys.executable, "-m", "reconciler"]


def console_blocks() -> list[list[tuple[str, list[str]]]]:
    """Each ```console block as (command, lines it shows after it)."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def argv(command: str) -> list[str]:
    """A README command line as argv: `.venv/bin/reconcile` is this interpreter's tool; the
    comment after `#` is the README's, not the shell's."""
    words = shlex.split(command, comments=True)
    return [*RECONCILE, *words[1:]] if words[0].endswith("reconcile") else words


def matches(shown: list[str], printed: str) -> bool:
    """The README's lines appear in order in what was printed; `...` stands for any lines."""
    pattern = "\n".join(".*?" if line == "..." else re.escape(line) for line in shown)
    return (
        re.fullmatch(pattern.replace("\n.*?\n", "\n(?:.*\n)*?"), printed.rstrip("\n"), re.S)
        is not None
    )


def test_the_first_console_example_prints_what_the_readme_shows() -> None:
    ((command, shown),) = console_blocks()[0]
    assert (
        command == ".venv/bin/reconcile plan manifests/ --sandbox --sandbox-seed examples/live.yaml"
    )
    done = subprocess.run(
        argv(command),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert matches(shown, done.stdout), done.stdout


def test_the_sandbox_walkthrough_runs_as_written() -> None:
    """README, The sandbox: serve, export what it prints, then the aws CLI and the tool."""
    (steps,) = [b for b in console_blocks() if b and "sandbox serve" in b[0][0]]
    (serve, shown_url), (export, _), *rest = steps
    assert export.startswith("export ")
    server = subprocess.Popen(
        argv(serve), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", shown_url[0])
        assert server.stderr is not None
        printed = next(line for line in server.stderr if line.strip().startswith("export "))
        exports = dict(a.partition("=")[::2] for a in shlex.split(printed.strip())[1:])
        shown = dict(a.partition("=")[::2] for a in shlex.split(export)[1:])
        assert shown.keys() == exports.keys(), printed
        env = {**os.environ, "NO_COLOR": "1"}
        for name, value in shown.items():  # the endpoints' ports are the server's own
            env[name] = exports[name] if value.startswith("http://127.0.0.1:") else value
        env.pop("AWS_PROFILE", None)
        expected = {"aws": 0, "drift": 2, "apply": 0}
        for command, _ in rest:
            words = argv(command)
            if words[0] == "aws" and shutil.which("aws") is None:
                continue  # the aws CLI is the user's own; the tool's commands are what is tested
            done = subprocess.run(
                words, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
            )
            kind = "aws" if words[0] == "aws" else words[words.index("reconciler") + 1]
            assert done.returncode == expected[kind], (command, done.stdout, done.stderr)
        after = subprocess.run(
            [*RECONCILE, "drift", "manifests/"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert after.returncode == 0, after.stdout  # the walkthrough's apply converged
    finally:
        server.terminate()
        server.communicate(timeout=30)


@pytest.mark.parametrize("block", [0, 1])
def test_the_set_up_commands_are_the_first_two_bash_blocks(block: int) -> None:
    command = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)[block]
    assert command.startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[")
    assert command.endswith(
        ".venv/bin/reconcile plan manifests/ --sandbox" if block == 0 else ".venv/bin/pytest"
    )
