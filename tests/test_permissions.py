"""Trust policies: which GitHub workflows may assume the plan and apply roles."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.errors import InputError
from reconciler.permissions import trust_policy

REPO = "octo-org/octo-repo"
ACCOUNT = "123456789012"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
WORKFLOWS = "octo-org/octo-repo/.github/workflows"


def trusting(sid: str, *subjects: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": list(subjects),
                    }
                },
            }
        ],
    }


def test_plan_role_trusts_pull_request_plans_drift_and_the_plans_of_apply_from_main_only() -> None:
    assert trust_policy(apply=False, repository=REPO, account=ACCOUNT) == trusting(
        "PlanPullRequestsDriftAndMergesFromTheDefaultBranch",
        f"repo:{REPO}:pull_request:job_workflow_ref:"
        f"{WORKFLOWS}/reconcile-plan-trusted.yml@refs/heads/main",
        f"repo:{REPO}:ref:refs/heads/main:job_workflow_ref:"
        f"{WORKFLOWS}/reconcile-drift.yml@refs/heads/main",
        # The plan job of apply, which names no environment: only the apply job has one.
        f"repo:{REPO}:ref:refs/heads/main:job_workflow_ref:"
        f"{WORKFLOWS}/reconcile-apply.yml@refs/heads/main",
    )


def test_apply_role_trusts_the_apply_workflow_from_main_in_its_environment_only() -> None:
    assert trust_policy(apply=True, repository=REPO, account=ACCOUNT) == trusting(
        "ApplyInTheProtectedEnvironmentFromTheDefaultBranch",
        f"repo:{REPO}:environment:production:job_workflow_ref:"
        f"{WORKFLOWS}/reconcile-apply.yml@refs/heads/main",
    )


def test_another_default_branch() -> None:
    document = trust_policy(apply=False, repository=REPO, account=ACCOUNT, branch="trunk")
    pull_request, drift, merge = document["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    assert pull_request.endswith("/reconcile-plan-trusted.yml@refs/heads/trunk")
    assert drift.startswith(f"repo:{REPO}:ref:refs/heads/trunk:job_workflow_ref:")
    assert drift.endswith("/reconcile-drift.yml@refs/heads/trunk")
    assert merge.startswith(f"repo:{REPO}:ref:refs/heads/trunk:job_workflow_ref:")
    assert merge.endswith("/reconcile-apply.yml@refs/heads/trunk")
    apply = trust_policy(apply=True, repository=REPO, account=ACCOUNT, branch="trunk")
    (subject,) = apply["Statement"][0]["Condition"]["StringEquals"][
        "token.actions.githubusercontent.com:sub"
    ]
    assert subject == (
        f"repo:{REPO}:environment:production:job_workflow_ref:"
        f"{WORKFLOWS}/reconcile-apply.yml@refs/heads/trunk"
    )


@pytest.mark.parametrize(
    "repository",
    [
        "",
        "octo-org",
        "octo-org/",
        "/octo-repo",
        "octo-org/octo-repo/extra",
        "octo org/octo-repo",
        "octo-org/octo:repo",
        "octo-org/*",
        "octo-org/octo-repo*",
        "*/octo-repo",
        "-octo/octo-repo",
        "octo-org/..",
        "octo-org/.",
        "octo-org/octo-repo\n",
        "https://github.com/octo-org/octo-repo",
    ],
)
def test_repository_must_be_owner_slash_name(repository: str) -> None:
    with pytest.raises(InputError, match="OWNER/NAME"):
        trust_policy(apply=False, repository=repository, account=ACCOUNT)


@pytest.mark.parametrize("repository", ["octo-org/octo-repo", "a/b", "O1-x/.github", "o/a_b.c-d"])
def test_valid_repositories(repository: str) -> None:
    trust_policy(apply=True, repository=repository, account=ACCOUNT)


@pytest.mark.parametrize("account", ["", "12345678901", "1234567890123", "12345678901a", "*"])
def test_account_is_twelve_digits(account: str) -> None:
    with pytest.raises(InputError, match="12 digits"):
        trust_policy(apply=False, repository=REPO, account=account)


@pytest.mark.parametrize(
    "branch", ["", "refs/heads/main", "ma in", "main*", "a..b", "/main", "main/", ".main", "a:b"]
)
def test_branch_is_a_plain_branch_name(branch: str) -> None:
    with pytest.raises(InputError, match="branch"):
        trust_policy(apply=False, repository=REPO, account=ACCOUNT, branch=branch)


@pytest.mark.parametrize("role", ["--plan", "--apply"])
def test_cli_prints_the_trust_policy(role: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["permissions", role, "--trust-policy", "--repo", REPO, "--account", ACCOUNT]
    assert main(argv) == 0
    expected = trust_policy(apply=role == "--apply", repository=REPO, account=ACCOUNT)
    assert json.loads(capsys.readouterr().out) == expected
    assert main([*argv, "--branch", "trunk"]) == 0
    assert "@refs/heads/trunk" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repo", "octo-org/octo:repo", "--account", ACCOUNT], "OWNER/NAME"),
        (["--repo", "octo-org", "--account", ACCOUNT], "OWNER/NAME"),
        (["--account", ACCOUNT], "--repo"),
        (["--repo", REPO], "--account"),
        (["--repo", REPO, "--account", "42"], "12 digits"),
        (["--repo", REPO, "--account", ACCOUNT, "manifests/"], "no manifests"),
    ],
)
def test_cli_refuses_a_bad_trust_policy_request(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["permissions", "--plan", "--trust-policy", *argv]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_cli_repo_and_account_go_with_trust_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["permissions", "--plan", "--repo", REPO]) == 1
    assert "--trust-policy" in capsys.readouterr().err
