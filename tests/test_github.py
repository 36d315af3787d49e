"""The GitHub side: workflows lint clean, every third-party action is pinned, the composite
action's script does what it says when bash runs it as the runner does, the README's commands and
the pre-commit hook are what they say."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from reconciler.permissions import (
    APPLY_ENVIRONMENT,
    APPLY_WORKFLOW,
    DRIFT_WORKFLOW,
    GITHUB_OIDC,
    PLAN_OPERATIONS,
    PLAN_WORKFLOW,
    SUBJECT_CLAIMS,
    actions_of,
    rollout_trust_policy,
    trust_policy,
)
from reconciler.providers.aws_lambda import AwsLambdaProvider

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
ACTION = ROOT / ".github/actions/reconcile/action.yml"
PINNED = re.compile(r"uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<ref>[0-9a-f]{40}) # v\d+\.\d+\.\d+$")


TOOLS = Path(sys.executable).parent  # actionlint and shellcheck come with the dev extra


def test_actionlint_is_clean_over_every_workflow() -> None:
    """actionlint, with shellcheck on the PATH so that every run: script is checked too."""
    result = subprocess.run(
        [str(TOOLS / "actionlint"), "-no-color", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {w.name for w in WORKFLOWS} >= {
        "ci.yml",
        "reconcile-plan.yml",
        "reconcile-plan-trusted.yml",
        "reconcile-apply.yml",
        "reconcile-drift.yml",
    }


def test_shellcheck_is_clean_over_the_composite_actions_scripts() -> None:
    """actionlint reads workflows only: the action's scripts get shellcheck here, expressions
    stood in for by a word, as the runner would have them substituted."""
    steps = yaml.safe_load(ACTION.read_text(encoding="utf-8"))["runs"]["steps"]
    scripts = [step["run"] for step in steps if "run" in step]
    assert scripts
    for script in scripts:
        text = re.sub(r"\$\{\{.*?\}\}", "expression", script)
        result = subprocess.run(
            [str(TOOLS / "shellcheck"), "--shell=bash", "-"],
            input=text,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_third_party_action_is_pinned_to_a_full_sha_with_its_version() -> None:
    uses = [
        line.strip().removeprefix("- ")
        for file in [*WORKFLOWS, ACTION]
        for line in file.read_text(encoding="utf-8").splitlines()
        if line.strip().removeprefix("- ").startswith("uses:")
    ]
    # This repository's trusted workflow is called at main, the branch its role trusts.
    own = re.compile(rf"uses: [\w.-]+/[\w.-]+/{re.escape(PLAN_WORKFLOW)}@main")
    remote = [u for u in uses if not u.startswith("uses: ./") and not own.fullmatch(u)]
    assert remote
    for line in remote:
        assert PINNED.fullmatch(line), f"not pinned to a commit SHA with its version: {line}"


def github_scripts() -> list[tuple[str, str]]:
    """Every actions/github-script step's script, with its workflow's name."""
    found = []
    for file in WORKFLOWS:
        for job in yaml.safe_load(file.read_text(encoding="utf-8"))["jobs"].values():
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/github-script@"):
                    found.append((file.name, step["with"]["script"]))
    return found


def test_a_comment_or_issue_body_is_never_cut_without_saying_so() -> None:
    """GitHub refuses bodies past 65,536 characters; a silent cut would hide the last changes."""
    bodies = [(name, script) for name, script in github_scripts() if "65536" in script]
    assert {name for name, _ in bodies} == {"reconcile-drift.yml", "reconcile-plan-trusted.yml"}
    for name, script in bodies:
        assert "full.length <= 65536 ? full : full.slice(0, 65536 - cut.length) + cut" in script, (
            name
        )
        assert re.search(r'const cut = "\\n\\n\*\*Cut to fit one \w+: the full', script), name


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


def test_pull_requests_run_only_the_trusted_plan_workflow_from_the_default_branch() -> None:
    caller = yaml.safe_load((ROOT / ".github/workflows/reconcile-plan.yml").read_text())
    assert set(caller[True]) == {"pull_request"}
    (job,) = caller["jobs"].values()
    # Named by OWNER/REPO@main: a ./ reference would run the pull request's own copy.
    assert re.fullmatch(rf"[\w.-]+/[\w.-]+/{re.escape(PLAN_WORKFLOW)}@main", job["uses"])
    assert not {"steps", "with", "secrets"} & set(job)  # nothing from the caller reaches it


def test_trusted_plan_workflow_treats_the_pull_request_as_data() -> None:
    trusted = yaml.safe_load((ROOT / PLAN_WORKFLOW).read_text())
    assert trusted[True] == {"workflow_call": None}  # no inputs and no secrets to be given
    assert trusted["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "id-token": "write",
    }
    (job,) = trusted["jobs"].values()
    assert "defaults" not in job
    assert job["runs-on"] == "ubuntu-latest"  # a fresh machine: no earlier job left anything
    steps: list[dict[str, Any]] = job["steps"]
    uses = [step.get("uses", "") for step in steps]
    tool, pull_request = (s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert tool["with"] == {"ref": "main", "path": "trusted", "persist-credentials": False}
    assert pull_request["with"] == {
        "path": "pr",
        "persist-credentials": False,
        "sparse-checkout": "/manifests/",
        "sparse-checkout-cone-mode": False,
    }
    (plan,) = (s for s in steps if s.get("uses", "").endswith("/.github/actions/reconcile"))
    assert plan["uses"] == "./trusted/.github/actions/reconcile"  # installs main's tool
    assert plan["with"]["paths"] == "pr/manifests/"
    # Lambda's manifests only, until Huawei Cloud trusts the job's ID token.
    assert plan["with"]["args"] == (
        "${{ vars.HUAWEICLOUD_IDP_ID == '' && '--provider lambda' || '' }}"
    )
    assert plan["with"]["huaweicloud-idp-id"] == "${{ vars.HUAWEICLOUD_IDP_ID }}"
    assert plan["with"]["huaweicloud-project-id"] == "${{ vars.HUAWEICLOUD_PROJECT_ID }}"
    (symlinks,) = (s for s in steps if "pr/" in s.get("run", ""))  # the only step that reads pr/
    assert "find pr/manifests -type l" in symlinks["run"]
    credentials = next(i for i, u in enumerate(uses) if "configure-aws-credentials" in u)
    assert steps.index(pull_request) < steps.index(symlinks) < credentials < steps.index(plan)
    assert all("working-directory" not in step for step in steps)
    assert all("cache" not in step.get("with", {}) for step in steps)  # caches a PR could write


def test_the_trust_policies_name_these_workflows() -> None:
    assert yaml.safe_load((ROOT / PLAN_WORKFLOW).read_text())[True] == {"workflow_call": None}
    drift = yaml.safe_load((ROOT / DRIFT_WORKFLOW).read_text())
    assert set(drift[True]) == {"schedule", "workflow_dispatch"}  # runs on the default branch
    apply = yaml.safe_load((ROOT / APPLY_WORKFLOW).read_text())
    assert apply[True]["push"]["branches"] == ["main"]
    assert apply["jobs"]["apply"]["environment"] == APPLY_ENVIRONMENT


def test_no_expression_is_expanded_inside_a_run_script() -> None:
    for file in [*WORKFLOWS, ACTION]:
        document = yaml.safe_load(file.read_text())
        jobs = document.get("jobs", {}).values() if "jobs" in document else [document["runs"]]
        for job in jobs:
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{file.name}: {step.get('name')}"


def readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_names_every_action_of_the_plan_role() -> None:
    flow = readme_section("In a GitOps flow")
    pull_request = flow.split("- **Pull request**", 1)[1].split("\n- **", 1)[0]
    named = set(re.findall(r"`((?:lambda|sts):\w+)`", pull_request))
    assert named == {*actions_of(AwsLambdaProvider, PLAN_OPERATIONS), "sts:GetCallerIdentity"}


def test_readme_setup_customises_the_subject_the_trust_policies_expect() -> None:
    setup = readme_section("GitOps setup on GitHub")
    customisation = re.search(r"'(\{\"use_default\".*?\})'", setup)
    assert customisation is not None
    assert json.loads(customisation[1]) == {
        "use_default": False,
        "include_claim_keys": list(SUBJECT_CLAIMS),
    }
    assert "actions/oidc/customization/sub" in setup
    assert "reconcile permissions --plan --trust-policy" in setup
    assert "reconcile permissions --apply --trust-policy" in setup


def test_readme_lists_the_subjects_the_roles_trust() -> None:
    setup = readme_section("GitOps setup on GitHub")
    listed = re.search(r"present:\n   ```text\n(.*?)\n   ```", setup, re.DOTALL)
    assert listed is not None
    trusted = [
        subject
        for document in (
            trust_policy(apply=False, repository="OWNER/REPO", account="123456789012"),
            trust_policy(apply=True, repository="OWNER/REPO", account="123456789012"),
            rollout_trust_policy(repository="OWNER/REPO", account="123456789012"),
        )
        for statement in document["Statement"]
        for subject in statement["Condition"]["StringEquals"][f"{GITHUB_OIDC}:sub"]
    ]
    assert [line.strip() for line in listed[1].splitlines()] == trusted


def test_apply_workflow_runs_one_at_a_time_behind_an_environment() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/reconcile-apply.yml").read_text())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["jobs"]["apply"]["environment"] == "production"
    assert "matrix" in workflow["jobs"]["apply"]["strategy"]


def test_the_workflows_that_write_never_run_at_once() -> None:
    """reconcile-apply.yml (a waiting apply drives rollouts for hours) and reconcile-rollout.yml
    (a step every five minutes) move the same rollouts: they share one concurrency group, so
    one never steps over the other's rollback or invokes an after hook the other is running."""
    groups = {
        name: yaml.safe_load((ROOT / ".github/workflows" / name).read_text())["concurrency"]
        for name in ("reconcile-apply.yml", "reconcile-rollout.yml")
    }
    assert len({g["group"] for g in groups.values()}) == 1, groups
    assert all(g["cancel-in-progress"] is False for g in groups.values())


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


# A stand-in for the reconcile CLI, for testing the action's shell script alone: it records its
# arguments, prints FAKE_STDOUT (markdown unless told) and exits with FAKE_EXIT.
FAKE_RECONCILE = """\
#!{python}
import json, os, sys
with open(os.environ["FAKE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
token_file = os.environ.get("HUAWEICLOUD_SDK_ID_TOKEN_FILE")
with open(os.environ["FAKE_LOG"] + ".env", "a", encoding="utf-8") as log:
    seen = {{k: v for k, v in os.environ.items() if k.startswith("HUAWEICLOUD_")}}
    if token_file:
        seen["token"] = open(token_file, encoding="utf-8").read()
        seen["mode"] = oct(os.stat(token_file).st_mode & 0o777)
    log.write(json.dumps(seen) + "\\n")
print(os.environ.get("FAKE_STDOUT", "fake markdown"))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


@dataclass(frozen=True)
class ActionRun:
    returncode: int
    calls: list[list[str]]
    outputs: dict[str, str]
    output: str  # stdout and stderr: workflow commands such as ::error:: go to stdout
    environments: list[dict[str, str]]  # the HUAWEICLOUD_* each call saw, and its token file


def run_action_script(
    tmp_path: Path,
    *,
    command: str = "plan",
    paths: str = "manifests/",
    args: str = "",
    fail_on_error: str = "true",
    plan_file: str = "",
    exit_code: int = 0,
    huaweicloud: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> ActionRun:
    """Run the action's reconcile step as the runner does (bash -eo pipefail, inputs in env)."""
    action = yaml.safe_load(ACTION.read_text())
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "run"]
    assert step["shell"] == "bash"
    given = {
        "command": command,
        "paths": paths,
        "args": args,
        "fail-on-error": fail_on_error,
        "plan-file": plan_file,
        "huaweicloud-idp-id": "",
        "huaweicloud-project-id": "",
        "huaweicloud-audience": action["inputs"]["huaweicloud-audience"]["default"],
        **(huaweicloud or {}),
    }
    inputs = {}
    for name, value in step["env"].items():
        declared = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value)
        assert declared, f"{name}: {value}"
        assert declared[1] in action["inputs"], f"{name}: {value}"
        inputs[name] = given[declared[1]]
    script = tmp_path / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    bin_dir, temp, work = tmp_path / "bin", tmp_path / "runner-temp", tmp_path / "work"
    for directory in (bin_dir, temp, work):
        directory.mkdir()
    fake = bin_dir / "reconcile"
    fake.write_text(FAKE_RECONCILE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    (work / "123456789012" / "eu-west-1" / "x").mkdir(parents=True)  # what a glob would match
    outputs = tmp_path / "github-output"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_ACTION_PATH": str(ACTION.parent),
        "FAKE_LOG": str(tmp_path / "calls.jsonl"),
        "FAKE_EXIT": str(exit_code),
        **inputs,
        **(extra_env or {}),
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = tmp_path / "calls.jsonl"
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    lines = outputs.read_text().splitlines() if outputs.exists() else []
    output = done.stdout + done.stderr
    seen = tmp_path / "calls.jsonl.env"
    environments = [json.loads(x) for x in seen.read_text().splitlines()] if seen.exists() else []
    return ActionRun(
        done.returncode, calls, dict(line.split("=", 1) for line in lines), output, environments
    )


def test_action_splits_args_as_a_shell_would_with_quotes(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, args="--target '123456789012/eu-west-1/*'")
    assert run.returncode == 0, run.output
    (call,) = run.calls
    assert call[-2:] == ["--target", "123456789012/eu-west-1/*"]  # one argument, no quotes, no glob


def test_action_args_are_never_evaluated(tmp_path: Path) -> None:
    args = '--target "$(touch pwned)" ; touch pwned2 `touch pwned3` $HOME x && y | z'
    run = run_action_script(tmp_path, command="drift", args=args)
    assert run.returncode == 0, run.output
    assert not list(tmp_path.rglob("pwned*"))
    (call,) = run.calls
    assert call[call.index("--target") :] == [
        "--target",
        "$(touch pwned)",
        ";",
        "touch",
        "pwned2",
        "`touch",
        "pwned3`",
        "$HOME",
        "x",
        "&&",
        "y",
        "|",
        "z",
    ]


def test_action_paths_are_split_the_same_way(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, command="drift", paths="manifests/ 'team a/*.yaml'")
    assert run.returncode == 0, run.output
    (call,) = run.calls
    assert call[:3] == ["drift", "manifests/", "team a/*.yaml"]


def test_action_refuses_unbalanced_quotes_without_running_anything(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, args="--target '123456789012/eu-west-1/*")
    assert run.returncode != 0
    assert run.calls == []
    assert "args" in run.output


@pytest.mark.parametrize(
    ("exit_code", "fail_on_error", "step_fails", "changes"),
    [
        (0, "true", False, "false"),
        (2, "true", False, "true"),  # changes are not an error
        (2, "false", False, "true"),
        (1, "false", False, "false"),
        (1, "true", True, "false"),
    ],
)
def test_action_reports_the_exit_code_under_bash_errexit(
    tmp_path: Path, exit_code: int, fail_on_error: str, step_fails: bool, changes: str
) -> None:
    run = run_action_script(tmp_path, exit_code=exit_code, fail_on_error=fail_on_error)
    assert (run.returncode != 0) is step_fails, run.output
    assert run.outputs["exit-code"] == str(exit_code)
    assert run.outputs["changes"] == changes


# The groups step of the apply and drift workflows, run as the runner runs it: bash -e, with the
# step's environment as GitHub would fill it from the repository variables, and stand-ins for pip,
# git and the reconcile CLI.
FAKE_PYTHON = """\
#!/bin/sh
[ "$1" = -m ] && [ "$2" = pip ] && exit 0  # installs nothing: reconcile is the stand-in
exec {python} "$@"
"""
FAKE_GIT = """\
#!/bin/sh
[ "$*" = "rev-parse HEAD" ] && echo {commit} && exit 0
exit 1
"""
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ACCOUNT = "210987654321"
ROLES = {
    "RECONCILE_PLAN_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/reconcile-plan",
    "RECONCILE_APPLY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/reconcile-apply",
    "AWS_REGION": "eu-west-1",
}
MATRIX = '{"include": [{"account": "210987654321", "region": "eu-west-1"}]}'


def workflow_step(workflow: str, job: str, step_id: str) -> dict[str, Any]:
    jobs = yaml.safe_load((ROOT / workflow).read_text())["jobs"]
    steps: list[dict[str, Any]] = jobs[job]["steps"]
    (step,) = [s for s in steps if s.get("id") == step_id]
    return step


def run_workflow_step(
    tmp_path: Path,
    step: dict[str, Any],
    variables: dict[str, str],
    exit_code: int = 0,
    matrix: str = MATRIX,
) -> ActionRun:
    """Run ``step``'s script with ``${{ vars.NAME }}`` in its env taken from ``variables``
    (unset ones empty, as GitHub gives them)."""
    env = {}
    for name, value in step.get("env", {}).items():
        variable = re.fullmatch(r"\$\{\{ vars\.(\w+) \}\}", value)
        assert variable, f"{name}: {value}"
        env[name] = variables.get(variable[1], "")
    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir()
    work.mkdir()
    for name, text in [
        ("reconcile", FAKE_RECONCILE.format(python=sys.executable)),
        ("python", FAKE_PYTHON.format(python=sys.executable)),
        ("git", FAKE_GIT.format(commit=COMMIT)),
    ]:
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    script, outputs, log = tmp_path / "step.sh", tmp_path / "github-output", tmp_path / "calls"
    script.write_text(step["run"], encoding="utf-8")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=work,
        env={
            **env,
            "PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "GITHUB_OUTPUT": str(outputs),
            "FAKE_LOG": str(log),
            "FAKE_STDOUT": matrix,
            "FAKE_EXIT": str(exit_code),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    lines = outputs.read_text().splitlines() if outputs.exists() else []
    output = done.stdout + done.stderr
    seen = tmp_path / "calls.jsonl.env"
    environments = [json.loads(x) for x in seen.read_text().splitlines()] if seen.exists() else []
    return ActionRun(
        done.returncode, calls, dict(line.split("=", 1) for line in lines), output, environments
    )


GROUPS = [pytest.param(APPLY_WORKFLOW, id="apply"), pytest.param(DRIFT_WORKFLOW, id="drift")]


@pytest.mark.parametrize("workflow", GROUPS)
def test_groups_put_manifests_without_an_account_in_the_default_roles_account(
    tmp_path: Path, workflow: str
) -> None:
    run = run_workflow_step(tmp_path, workflow_step(workflow, "groups", "groups"), ROLES)
    assert run.returncode == 0, run.output
    assert run.calls == [
        [
            "groups",
            "manifests/",
            "--provider",
            "lambda",
            "--region",
            "eu-west-1",
            "--default-account",
            ACCOUNT,
        ]
    ]
    assert run.outputs["matrix"] == MATRIX
    assert run.outputs["account"] == ACCOUNT  # for each group's job: --default-account


@pytest.mark.parametrize("workflow", GROUPS)
def test_groups_take_functiongraph_in_once_huawei_cloud_trusts_github(
    tmp_path: Path, workflow: str
) -> None:
    variables = {**ROLES, "HUAWEICLOUD_IDP_ID": "github"}
    run = run_workflow_step(tmp_path, workflow_step(workflow, "groups", "groups"), variables)
    assert run.returncode == 0, run.output
    assert run.calls == [
        ["groups", "manifests/", "--region", "eu-west-1", "--default-account", ACCOUNT]
    ]


WRITERS = [APPLY_WORKFLOW, DRIFT_WORKFLOW, ".github/workflows/reconcile-rollout.yml"]


@pytest.mark.parametrize("workflow", WRITERS)
def test_each_group_holds_the_credentials_of_its_own_cloud_only(workflow: str) -> None:
    """A Lambda group assumes an AWS role and trades no Huawei Cloud token; a FunctionGraph
    group trades its ID token for the project of its group and assumes no AWS role."""
    jobs = yaml.safe_load((ROOT / workflow).read_text())["jobs"]
    checked = 0
    for name, job in jobs.items():
        if name == "groups":
            continue
        steps = job["steps"]
        for step in steps:
            if "configure-aws-credentials" in step.get("uses", ""):
                assert step["if"] == "matrix.provider == 'lambda'"
            if step.get("uses", "").endswith("/.github/actions/reconcile"):
                checked += 1
                assert step["with"]["huaweicloud-idp-id"] == (
                    "${{ matrix.provider == 'functiongraph' && vars.HUAWEICLOUD_IDP_ID || '' }}"
                )
                assert step["with"]["huaweicloud-project-id"] == (
                    "${{ matrix.provider == 'functiongraph' && matrix.account || '' }}"
                )
                if "args" in step["with"]:
                    assert "--provider ${{ matrix.provider }} " in step["with"]["args"]
        assert job["permissions"]["id-token"] == "write"
    assert checked >= 1


@pytest.mark.parametrize("workflow", GROUPS)
def test_groups_without_a_default_region(tmp_path: Path, workflow: str) -> None:
    variables = {**ROLES, "AWS_REGION": ""}
    run = run_workflow_step(tmp_path, workflow_step(workflow, "groups", "groups"), variables)
    assert run.returncode == 0, run.output
    assert run.calls == [
        ["groups", "manifests/", "--provider", "lambda", "--default-account", ACCOUNT]
    ]


@pytest.mark.parametrize("workflow", GROUPS)
def test_a_failure_to_list_the_groups_fails_the_step(tmp_path: Path, workflow: str) -> None:
    step = workflow_step(workflow, "groups", "groups")
    run = run_workflow_step(tmp_path, step, ROLES, exit_code=1)
    assert run.returncode != 0
    assert "matrix" not in run.outputs


BAD_ROLES = [
    "210987654321",
    "arn:aws:iam::21098765432:role/reconcile",  # 11 digits
    "arn:aws:iam::2109876543210:role/reconcile",
    "arn:aws:iam::21098765432x:role/reconcile",
    "arn:aws:iam::210987654321:user/reconcile",
    "arn:aws:iam:eu-west-1:210987654321:role/reconcile",
    "arn:aws:iam::210987654321:role/",
    " arn:aws:iam::210987654321:role/reconcile",
]


@pytest.mark.parametrize("role", BAD_ROLES)
@pytest.mark.parametrize(
    ("workflow", "variable"),
    [(APPLY_WORKFLOW, "RECONCILE_APPLY_ROLE_ARN"), (DRIFT_WORKFLOW, "RECONCILE_PLAN_ROLE_ARN")],
)
def test_groups_refuse_a_default_role_that_is_not_a_role_arn(
    tmp_path: Path, workflow: str, variable: str, role: str
) -> None:
    step = workflow_step(workflow, "groups", "groups")
    run = run_workflow_step(tmp_path, step, {**ROLES, variable: role})
    assert run.returncode != 0
    assert run.calls == []
    assert f"::error::Set the repository variable {variable}" in run.output


def test_apply_needs_the_default_apply_role(tmp_path: Path) -> None:
    step = workflow_step(APPLY_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, {**ROLES, "RECONCILE_APPLY_ROLE_ARN": ""})
    assert run.returncode != 0
    assert run.calls == []
    assert "::error::Set the repository variable RECONCILE_APPLY_ROLE_ARN" in run.output


def test_drift_skips_until_the_plan_role_is_set(tmp_path: Path) -> None:
    step = workflow_step(DRIFT_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, {**ROLES, "RECONCILE_PLAN_ROLE_ARN": ""})
    assert run.returncode == 0, run.output
    assert run.calls == []
    assert run.outputs["ready"] == "false"


def test_action_applies_a_saved_plan_only_if_made_from_these_manifests(tmp_path: Path) -> None:
    run = run_action_script(
        tmp_path,
        command="apply",
        plan_file="/runner/plan dir/plan.json",
        paths="manifests/ 'more manifests/'",
    )
    assert run.returncode == 0, run.output
    (call,) = run.calls
    assert call[:6] == [
        "apply",
        "/runner/plan dir/plan.json",
        "--manifests",
        "manifests/",
        "--manifests",
        "more manifests/",
    ]
    assert "--auto-approve" in call
    assert call[call.index("--report") + 1] == run.outputs["report"]


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_action_takes_a_plan_file_only_to_apply_it(tmp_path: Path, command: str) -> None:
    run = run_action_script(tmp_path, command=command, plan_file="plan.json")
    assert run.returncode != 0
    assert run.calls == []
    assert "plan-file" in run.output


def test_action_applies_a_saved_plan_only_with_its_manifests(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, command="apply", plan_file="plan.json", paths="")
    assert run.returncode != 0
    assert run.calls == []
    assert "plan-file" in run.output


def test_action_saves_the_plan_as_plan_json(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, command="plan", exit_code=2)
    (call,) = run.calls
    assert call[call.index("--out") + 1] == run.outputs["report"]
    assert Path(run.outputs["report"]).name == "plan.json"  # what the apply job downloads


def apply_jobs() -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / APPLY_WORKFLOW).read_text())["jobs"]
    return jobs


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def test_apply_plans_each_group_read_only_then_applies_it_in_the_environment() -> None:
    jobs = apply_jobs()
    assert set(jobs) == {"groups", "plan", "apply"}
    plan, apply = jobs["plan"], jobs["apply"]
    assert "environment" not in plan  # so its subject is the plan role's, not the apply role's
    assert apply["environment"] == APPLY_ENVIRONMENT
    for job in (plan, apply):
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert job["strategy"] == {
            "fail-fast": False,
            "matrix": "${{ fromJSON(needs.groups.outputs.matrix) }}",
        }
    assert plan["needs"] == "groups"
    assert apply["needs"] == ["groups", "plan"]  # waits for every plan job: see the README
    (plan_role,) = uses(plan, "aws-actions/configure-aws-credentials")
    (apply_role,) = uses(apply, "aws-actions/configure-aws-credentials")
    assert "RECONCILE_PLAN_ROLE_ARN" in plan_role["with"]["role-to-assume"]
    assert "APPLY" not in plan_role["with"]["role-to-assume"]
    assert "RECONCILE_APPLY_ROLE_ARN" in apply_role["with"]["role-to-assume"]
    assert "PLAN" not in apply_role["with"]["role-to-assume"]


def test_apply_applies_exactly_the_plan_its_group_uploaded() -> None:
    plan, apply = apply_jobs()["plan"], apply_jobs()["apply"]
    (planned,) = uses(plan, "./.github/actions/reconcile")
    assert planned["with"]["command"] == "plan"
    assert planned["with"]["paths"] == "manifests/"
    assert "--target ${{ matrix.target }}" in planned["with"]["args"]
    (upload,) = uses(plan, "actions/upload-artifact")
    assert upload["with"]["path"] == f"${{{{ steps.{planned['id']}.outputs.report }}}}"
    name = upload["with"]["name"]
    assert "${{ matrix.account }}" in name  # one artifact per group
    assert "${{ matrix.region }}" in name
    assert upload["with"]["if-no-files-found"] == "error"
    assert 1 <= upload["with"]["retention-days"] <= 7
    assert upload["with"]["overwrite"] is True  # a re-run of the plan job replaces its plan
    assert plan["steps"].index(planned) < plan["steps"].index(upload)

    (download,) = uses(apply, "actions/download-artifact")
    assert download["with"] == {"name": name, "path": "${{ runner.temp }}/plan"}
    (applied,) = uses(apply, "./.github/actions/reconcile")
    assert applied["with"]["command"] == "apply"
    assert applied["with"]["plan-file"] == "${{ runner.temp }}/plan/plan.json"
    assert applied["with"]["paths"] == planned["with"]["paths"]  # apply --manifests manifests/
    assert "args" not in applied["with"]  # the plan's own selection, nothing added
    (credentials,) = uses(apply, "aws-actions/configure-aws-credentials")
    steps = apply["steps"]
    assert steps.index(download) < steps.index(credentials) < steps.index(applied)


def test_apply_asks_for_approval_only_when_some_group_has_changes() -> None:
    plan, apply = apply_jobs()["plan"], apply_jobs()["apply"]
    (planned,) = uses(plan, "./.github/actions/reconcile")
    # Each group's job sets the output only when it has changes: GitHub combines the outputs of
    # a matrix's jobs, and an empty one does not overwrite another's.
    assert plan["outputs"] == {
        "changes": f"${{{{ steps.{planned['id']}.outputs.changes == 'true' && 'true' || '' }}}}"
    }
    assert apply["if"] == "needs.plan.outputs.changes == 'true'"


def test_plan_and_apply_check_out_the_commit_the_groups_job_read_from_main(
    tmp_path: Path,
) -> None:
    jobs = apply_jobs()
    (checkout,) = uses(jobs["groups"], "actions/checkout")
    assert checkout["with"] == {"ref": "main", "persist-credentials": False}
    assert jobs["groups"]["outputs"]["commit"] == "${{ steps.groups.outputs.commit }}"
    for job in (jobs["plan"], jobs["apply"]):
        (checkout,) = uses(job, "actions/checkout")
        assert checkout["with"] == {
            "ref": "${{ needs.groups.outputs.commit }}",
            "persist-credentials": False,
        }
    run = run_workflow_step(tmp_path, workflow_step(APPLY_WORKFLOW, "groups", "groups"), ROLES)
    assert run.returncode == 0, run.output
    assert run.outputs["commit"] == COMMIT


@pytest.mark.parametrize(
    "plan_role",
    [
        "",
        "arn:aws:iam::123456789012:role/reconcile-plan",  # another account
        "arn:aws:iam::210987654321:user/reconcile-plan",
    ],
)
def test_apply_needs_both_default_roles_in_one_account(tmp_path: Path, plan_role: str) -> None:
    step = workflow_step(APPLY_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, {**ROLES, "RECONCILE_PLAN_ROLE_ARN": plan_role})
    assert run.returncode != 0
    assert run.calls == []
    assert "::error::Set the repository variable RECONCILE_PLAN_ROLE_ARN" in run.output


def test_every_job_that_assumes_a_role_presents_a_subject_the_role_trusts() -> None:
    presented: dict[bool, set[str]] = {False: set(), True: set()}
    for workflow in (PLAN_WORKFLOW, DRIFT_WORKFLOW, APPLY_WORKFLOW):
        document = yaml.safe_load((ROOT / workflow).read_text())
        for job in document["jobs"].values():
            credentials = uses(job, "aws-actions/configure-aws-credentials")
            if not credentials:
                continue
            (step,) = credentials
            role = step["with"]["role-to-assume"]
            apply = "RECONCILE_APPLY_ROLE_ARN" in role
            assert apply != ("RECONCILE_PLAN_ROLE_ARN" in role), role
            if "environment" in job:
                context = f"environment:{job['environment']}"
            elif workflow == PLAN_WORKFLOW:  # called by reconcile-plan.yml on pull requests
                context = "pull_request"
            else:
                context = "ref:refs/heads/main"
            presented[apply].add(
                f"repo:OWNER/REPO:{context}:job_workflow_ref:OWNER/REPO/{workflow}@refs/heads/main"
            )
    for apply in (False, True):
        document = trust_policy(apply=apply, repository="OWNER/REPO", account="123456789012")
        (statement,) = document["Statement"]
        assert presented[apply] == set(statement["Condition"]["StringEquals"][f"{GITHUB_OIDC}:sub"])


@pytest.mark.parametrize(("workflow", "job"), [(APPLY_WORKFLOW, "plan"), (DRIFT_WORKFLOW, "drift")])
def test_each_group_reads_manifests_without_a_region_as_groups_did(workflow: str, job: str) -> None:
    # The job's AWS_REGION is its group's Region and its credentials its group's account; a
    # manifest that names neither is in the default ones (groups --region --default-account), so
    # the job says so, or --target would take it into its group.
    document = yaml.safe_load((ROOT / workflow).read_text())
    assert document["jobs"]["groups"]["outputs"]["account"] == "${{ steps.groups.outputs.account }}"
    (step,) = uses(document["jobs"][job], "./.github/actions/reconcile")
    assert step["with"]["args"] == (
        "--provider ${{ matrix.provider }} "
        "--target ${{ matrix.target }} --region ${{ vars.AWS_REGION || matrix.region }} "
        "--default-account ${{ needs.groups.outputs.account }}"
    )


class _TokenService(http.server.BaseHTTPRequestHandler):
    """GitHub's OIDC token service as a job reaches it: ACTIONS_ID_TOKEN_REQUEST_URL with a
    bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN, the audience as a query parameter."""

    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8vZXN0YXRlIn0.c2ln"
    seen: ClassVar[list[tuple[str, str]]] = []
    status = 200

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        body = json.dumps({"value": self.token}).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_service() -> Iterator[dict[str, str]]:
    _TokenService.seen = []
    _TokenService.status = 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_port}/token?x=1",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
        }
    finally:
        server.shutdown()
        server.server_close()


HUAWEI = {"huaweicloud-idp-id": "github", "huaweicloud-project-id": "0a1b2c3d4e5f6071"}


def test_action_trades_nothing_without_a_huawei_identity_provider(
    tmp_path: Path, token_service: dict[str, str]
) -> None:
    run = run_action_script(tmp_path, extra_env=token_service)
    assert run.returncode == 0, run.output
    assert run.environments == [{}]
    assert _TokenService.seen == []


def test_action_hands_the_job_id_token_to_the_sdk_in_a_private_file(
    tmp_path: Path, token_service: dict[str, str]
) -> None:
    run = run_action_script(
        tmp_path,
        huaweicloud={**HUAWEI, "huaweicloud-audience": "iam example/1"},
        extra_env=token_service,
    )
    assert run.returncode == 0, run.output
    (seen,) = run.environments
    assert seen["HUAWEICLOUD_SDK_IDP_ID"] == "github"
    assert seen["HUAWEICLOUD_SDK_PROJECT_ID"] == "0a1b2c3d4e5f6071"
    assert (seen["token"], seen["mode"]) == (_TokenService.token, "0o600")
    assert not Path(seen["HUAWEICLOUD_SDK_ID_TOKEN_FILE"]).exists()  # removed after the run
    ((path, authorization),) = _TokenService.seen
    assert path == "/token?x=1&audience=iam%20example%2F1"
    assert authorization == "bearer request-token"
    # Masked in the log before anything could print it, and printed nowhere else.
    assert run.output.count(_TokenService.token) == 1
    assert f"::add-mask::{_TokenService.token}" in run.output


@pytest.mark.parametrize(
    ("given", "without", "message"),
    [
        ({"huaweicloud-idp-id": "github"}, None, "needs huaweicloud-project-id"),
        (HUAWEI, "ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"),
    ],
)
def test_action_refuses_a_huawei_identity_provider_it_cannot_use(
    tmp_path: Path,
    token_service: dict[str, str],
    given: dict[str, str],
    without: str | None,
    message: str,
) -> None:
    env = {k: v for k, v in token_service.items() if k != without}
    run = run_action_script(tmp_path, huaweicloud=given, extra_env=env)
    assert run.returncode == 1
    assert message in run.output
    assert run.calls == []


def test_action_stops_when_github_gives_no_id_token(
    tmp_path: Path, token_service: dict[str, str]
) -> None:
    _TokenService.status = 500
    run = run_action_script(tmp_path, huaweicloud=HUAWEI, extra_env=token_service)
    assert run.returncode != 0
    assert "::error::could not get the OIDC ID token of this job" in run.output
    assert run.calls == []


def test_action_writes_where_each_rollout_stands_to_the_job_summary(tmp_path: Path) -> None:
    run = run_action_script(tmp_path, command="rollout-status", args="--target 'a/b/*'")
    assert run.returncode == 0, run.output
    assert run.calls == [["rollout", "status", "manifests/", "-o", "markdown", "--target", "a/b/*"]]
    assert (tmp_path / "summary.md").read_text() == "fake markdown\n"
