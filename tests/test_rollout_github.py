"""The workflows that drive rollouts: apply's job lasts long enough and says what a rollback
means; the scheduled rollout workflow only moves on rollouts under way, with least privilege."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.permissions import (
    ROLLOUT_ENVIRONMENT,
    ROLLOUT_WORKFLOW,
    rollout_trust_policy,
    trust_policy,
)
from tests.test_github import ROLES, run_workflow_step, workflow_step

ROOT = Path(__file__).resolve().parent.parent


def workflow(name: str) -> dict[Any, Any]:
    return dict(yaml.safe_load((ROOT / name).read_text(encoding="utf-8")))


def test_the_apply_job_lasts_as_long_as_github_allows_and_says_why() -> None:
    text = (ROOT / ".github/workflows/reconcile-apply.yml").read_text(encoding="utf-8")
    apply = workflow(".github/workflows/reconcile-apply.yml")["jobs"]["apply"]
    assert apply["timeout-minutes"] == 360
    assert "the longest rollout" in text  # the figure is explained where it is set
    names = {s.get("name") for s in apply["steps"]}
    assert "Rolled back" in names


def test_the_rollout_workflow_moves_on_only_rollouts_under_way_on_a_schedule() -> None:
    document = workflow(ROLLOUT_WORKFLOW)
    assert set(document[True]) == {"schedule", "workflow_dispatch"}
    assert document["permissions"] == {"contents": "read"}
    assert document["concurrency"]["cancel-in-progress"] is False
    job = document["jobs"]["rollout"]
    assert job["environment"] == ROLLOUT_ENVIRONMENT
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    step = next(s for s in job["steps"] if s.get("id") == "rollout")
    assert step["with"]["command"] == "apply"
    assert "--no-wait --rollouts-only" in step["with"]["args"]
    status = next(s for s in job["steps"] if s.get("name") == "Where each rollout stands")
    # Through the action, which writes the markdown to the job summary with the group's credentials.
    assert status["uses"] == "./.github/actions/reconcile"
    assert (status["if"], status["with"]["command"]) == ("always()", "rollout-status")
    assert status["with"]["paths"] == "manifests/"
    assert status["with"]["args"] == step["with"]["args"].replace("--no-wait --rollouts-only ", "")


def test_only_the_rollout_role_trusts_the_rollout_workflow_and_its_job_presents_it() -> None:
    (statement,) = rollout_trust_policy(repository="o/r", account="123456789012")["Statement"]
    (subject,) = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subject == (
        f"repo:o/r:environment:{ROLLOUT_ENVIRONMENT}:job_workflow_ref:o/r/{ROLLOUT_WORKFLOW}"
        "@refs/heads/main"
    )
    for apply in (False, True):
        assert ROLLOUT_WORKFLOW not in str(
            trust_policy(apply=apply, repository="o/r", account="123456789012")
        )
    job = workflow(ROLLOUT_WORKFLOW)["jobs"]["rollout"]
    credentials = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert "RECONCILE_ROLLOUT_ROLE_ARN" in credentials["with"]["role-to-assume"]
    assert "APPLY" not in credentials["with"]["role-to-assume"]


ROLLOUT_ROLES = {**ROLES, "RECONCILE_ROLLOUT_ROLE_ARN": "arn:aws:iam::210987654321:role/rollout"}


@pytest.mark.parametrize(
    "variables", [ROLLOUT_ROLES, {**ROLLOUT_ROLES, "RECONCILE_ROLLOUT_ROLE_ARN": ""}]
)
def test_the_rollout_groups_skip_until_the_apply_role_is_set(
    tmp_path: Path, variables: dict[str, str]
) -> None:
    step = workflow_step(ROLLOUT_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, variables)
    assert run.returncode == 0, run.output
    ready = "true" if variables["RECONCILE_ROLLOUT_ROLE_ARN"] else "false"
    assert run.outputs["ready"] == ready


@pytest.mark.parametrize(
    ("variables", "clouds"),
    [
        (ROLLOUT_ROLES, ["--provider", "lambda"]),
        ({**ROLLOUT_ROLES, "HUAWEICLOUD_IDP_ID": "github"}, []),
    ],
)
def test_the_rollout_groups_are_those_with_a_rollout(
    tmp_path: Path, variables: dict[str, str], clouds: list[str]
) -> None:
    step = workflow_step(ROLLOUT_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, variables)
    assert run.returncode == 0, run.output
    (call,) = run.calls
    assert call == [
        "groups",
        "manifests/",
        "--rollouts",
        *clouds,
        "--region",
        "eu-west-1",
        "--default-account",
        "210987654321",
    ]
    assert run.outputs["ready"] == "true"


def test_no_rollout_job_starts_when_no_manifest_has_a_rollout(tmp_path: Path) -> None:
    # GitHub refuses a matrix with no job, so the jobs are skipped instead.
    step = workflow_step(ROLLOUT_WORKFLOW, "groups", "groups")
    run = run_workflow_step(tmp_path, step, ROLLOUT_ROLES, matrix='{"include": []}')
    assert run.returncode == 0, run.output
    assert run.outputs["ready"] == "false"
    assert "No manifest has a rollout" in run.output
    jobs = yaml.safe_load((Path(__file__).parent.parent / ROLLOUT_WORKFLOW).read_text())["jobs"]
    assert jobs["rollout"]["if"] == "needs.groups.outputs.ready == 'true'"
