"""Least-privilege IAM policies, built from what each provider operation declares it calls, and
the trust policies that say which GitHub workflows may assume the roles that hold them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.contract import ACCOUNT_RE
from reconciler.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

# The provider operations each command uses. GetCallerIdentity needs no permission.
PLAN_OPERATIONS = ("read_function", "version_info", "provisioned_concurrency")
APPLY_OPERATIONS = (*PLAN_OPERATIONS, "get_alias", "create_alias", "update_alias")
PRUNE_OPERATIONS = ("get_alias", "delete_alias")
# FunctionGraph keeps a rollout's state in a function tag: read, then written and removed.
ROLLOUT_TAG_OPERATIONS = ("tags", "tag", "untag")


def needs(*actions: str) -> Callable[[F], F]:
    """Declare the IAM actions a provider operation calls."""

    def declare(operation: F) -> F:
        operation.iam_actions = actions  # type: ignore[attr-defined]
        return operation

    return declare


def actions_of(provider: type, operations: Iterable[str]) -> list[str]:
    """The IAM actions the named operations of ``provider`` declare, sorted."""
    return sorted({a for name in operations for a in getattr(provider, name).iam_actions})


@dataclass(frozen=True)
class FunctionScope:
    """A function as far as the manifests say where it is; None is any."""

    name: str
    region: str | None = None
    account: str | None = None
    partition: str = "aws"
    prune: bool = False

    def arns(self) -> list[str]:
        arn = (
            f"arn:{self.partition}:lambda:{self.region or '*'}:{self.account or '*'}:"
            f"function:{self.name}"
        )
        return [arn, f"{arn}:*"]  # the function, and its versions and aliases


ANY_FUNCTION = FunctionScope("*")


def policy(
    provider: type,
    *,
    apply: bool,
    functions: Sequence[FunctionScope],
    extra: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """An IAM policy document for ``plan`` (read only) or ``apply``, scoped to the functions'
    ARNs (or to every function when none are given); ``extra`` statements follow (rollouts')."""
    scopes = list(functions) or [ANY_FUNCTION]
    resources = sorted({arn for scope in scopes for arn in scope.arns()})
    operations = APPLY_OPERATIONS if apply else PLAN_OPERATIONS
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReconcileAliases" if apply else "ReadAliases",
            "Effect": "Allow",
            "Action": actions_of(provider, operations),
            "Resource": resources,
        }
    ]
    pruned = sorted({arn for scope in scopes if scope.prune for arn in scope.arns()})
    if apply and pruned:
        statements.append(
            {
                "Sid": "PruneAliases",
                "Effect": "Allow",
                "Action": actions_of(provider, PRUNE_OPERATIONS),
                "Resource": pruned,
            }
        )
    return {"Version": "2012-10-17", "Statement": [*statements, *extra]}


@dataclass(frozen=True)
class FunctionGraphScope:
    """A FunctionGraph function as far as the manifests say where it is; None is any."""

    name: str
    package: str = "default"
    region: str | None = None
    prune: bool = False

    def resources(self) -> list[str]:
        # Huawei Cloud IAM: SERVICE:REGION:ACCOUNT:TYPE:PATH, a function's path PACKAGE/NAME.
        return [f"FUNCTIONGRAPH:{self.region or '*'}:*:function:{self.package}/{self.name}"]


def functiongraph_policy(
    provider: type,
    *,
    apply: bool,
    functions: Sequence[FunctionGraphScope],
    rollouts: Sequence[FunctionGraphScope] = (),
    hooks: Sequence[FunctionGraphScope] = (),
) -> dict[str, Any]:
    """A Huawei Cloud IAM custom policy (version 1.1) for ``plan`` or ``apply`` of FunctionGraph
    functions: the actions the provider's operations declare, scoped to the functions; for the
    ``rollouts`` among them, their tags (read to plan, written to apply); and their ``hooks``
    (found to plan, invoked to apply)."""
    scopes = list(functions) or [FunctionGraphScope("*", "*")]
    operations = APPLY_OPERATIONS if apply else PLAN_OPERATIONS
    statements: list[dict[str, Any]] = [
        {
            "Effect": "Allow",
            "Action": actions_of(provider, operations),
            "Resource": sorted({r for scope in scopes for r in scope.resources()}),
        }
    ]
    pruned = sorted({r for scope in scopes if scope.prune for r in scope.resources()})
    if apply and pruned:
        statements.append(
            {
                "Effect": "Allow",
                "Action": actions_of(provider, PRUNE_OPERATIONS),
                "Resource": pruned,
            }
        )
    rolled = sorted({r for scope in rollouts for r in scope.resources()})
    if rolled:  # a rollout's state is a tag on its function: read to plan, written to apply
        tagging = ROLLOUT_TAG_OPERATIONS if apply else ROLLOUT_TAG_OPERATIONS[:1]
        statements.append(
            {"Effect": "Allow", "Action": actions_of(provider, tagging), "Resource": rolled}
        )
    statements += _hook_statements(provider, hooks, invoke=apply)
    return {"Version": "1.1", "Statement": statements}


def _hook_statements(
    provider: type, hooks: Sequence[FunctionGraphScope], *, invoke: bool
) -> list[dict[str, Any]]:
    """The rollouts' hook functions: found (their versions listed) to plan, and invoked too."""
    found = sorted({r for scope in hooks for r in scope.resources()})
    if not found:
        return []
    operations = ("version_info", "invoke") if invoke else ("version_info",)
    return [{"Effect": "Allow", "Action": actions_of(provider, operations), "Resource": found}]


def functiongraph_rollout_policy(
    provider: type,
    *,
    functions: Sequence[FunctionGraphScope],
    rollouts: Sequence[FunctionGraphScope],
    hooks: Sequence[FunctionGraphScope] = (),
) -> dict[str, Any]:
    """The scheduled rollout runner's policy on FunctionGraph: read the functions as plan does,
    then move the aliases of functions with rollouts (read and update an alias, never create or
    delete one), keep their state in tags, and invoke their ``hooks``. With no manifests, every
    function; with manifests and no rollout among them, none (as on Lambda)."""
    document = functiongraph_policy(provider, apply=False, functions=functions)
    if functions and not rollouts:
        return document
    rolled = sorted({r for s in rollouts or [FunctionGraphScope("*", "*")] for r in s.resources()})
    document["Statement"].append(
        {
            "Effect": "Allow",
            "Action": actions_of(provider, ("get_alias", "update_alias", *ROLLOUT_TAG_OPERATIONS)),
            "Resource": rolled,
        }
    )
    document["Statement"] += _hook_statements(provider, hooks, invoke=True)
    return document


GITHUB_OIDC = "token.actions.githubusercontent.com"
# The repository's OIDC subject is customised to these claims (README, GitOps setup), so a subject
# names the job's workflow file and ref: the role trusts code from the default branch, not a PR's.
SUBJECT_CLAIMS = ("repo", "context", "job_workflow_ref")
PLAN_WORKFLOW = ".github/workflows/reconcile-plan-trusted.yml"
DRIFT_WORKFLOW = ".github/workflows/reconcile-drift.yml"
APPLY_WORKFLOW = ".github/workflows/reconcile-apply.yml"
APPLY_ENVIRONMENT = "production"
# The scheduled runner of rollouts under way (apply --no-wait --rollouts-only): its own role and
# environment, without reviewers, since it starts nothing that the approved apply did not start.
ROLLOUT_WORKFLOW = ".github/workflows/reconcile-rollout.yml"
ROLLOUT_ENVIRONMENT = "rollout"

# GitHub's rules for names: an owner is letters, digits and inner hyphens; a repository is letters,
# digits, '.', '_' and '-'. Nothing else may reach a subject, where '*' or ':' would change it.
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?/[A-Za-z0-9._-]{1,100}")
_BRANCH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


def _subject(repository: str, context: str, workflow: str, branch: str) -> str:
    """The OIDC ``sub`` of a job of ``workflow`` at ``branch``, in the customised format."""
    ref = f"{repository}/{workflow}@refs/heads/{branch}"
    return f"repo:{repository}:{context}:job_workflow_ref:{ref}"


def _check_trust(repository: str, branch: str) -> None:
    if not _REPOSITORY.fullmatch(repository) or repository.split("/")[1] in {".", ".."}:
        raise InputError(
            f"repository {repository!r}: expected OWNER/NAME, as in github.com/OWNER/NAME"
        )
    if (
        not _BRANCH.fullmatch(branch)
        or ".." in branch
        or branch.endswith(".lock")
        or branch.startswith("refs/")
    ):
        raise InputError(f"branch {branch!r}: expected a branch name such as main, not a ref")


def _subjects(role: str, repository: str, branch: str) -> list[str]:
    """The OIDC subjects of the jobs a role (plan, apply or rollout) trusts, each workflow from
    ``branch`` only: pull-request plans by the trusted workflow, drift and the plan jobs of apply
    for plan; the apply jobs, which alone name the protected environment, for apply; the
    scheduled rollout runner in its environment for rollout."""
    if role == "apply":
        return [_subject(repository, f"environment:{APPLY_ENVIRONMENT}", APPLY_WORKFLOW, branch)]
    if role == "rollout":
        return [
            _subject(repository, f"environment:{ROLLOUT_ENVIRONMENT}", ROLLOUT_WORKFLOW, branch)
        ]
    return [
        _subject(repository, "pull_request", PLAN_WORKFLOW, branch),
        _subject(repository, f"ref:refs/heads/{branch}", DRIFT_WORKFLOW, branch),
        # The plan jobs of apply name no environment, so their context is the branch.
        _subject(repository, f"ref:refs/heads/{branch}", APPLY_WORKFLOW, branch),
    ]


def trust_policy(
    *, apply: bool, repository: str, account: str, branch: str = "main"
) -> dict[str, Any]:
    """The trust policy of the plan role (pull-request plans by the trusted workflow, drift, and
    the plan jobs of the apply workflow) or of the apply role (the apply jobs, which alone name the
    protected environment): each workflow from ``branch`` only.
    """
    _check_trust(repository, branch)
    if not ACCOUNT_RE.fullmatch(account):
        raise InputError(f"account {account!r}: an AWS account is 12 digits")
    sid = (
        "ApplyInTheProtectedEnvironmentFromTheDefaultBranch"
        if apply
        else "PlanPullRequestsDriftAndMergesFromTheDefaultBranch"
    )
    subjects = _subjects("apply" if apply else "plan", repository, branch)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{GITHUB_OIDC}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC}:sub": subjects,
                    }
                },
            }
        ],
    }


def rollout_trust_policy(*, repository: str, account: str, branch: str = "main") -> dict[str, Any]:
    """The trust policy of the rollout role: the scheduled rollout workflow from ``branch``, in
    its environment, and nothing else."""
    document = trust_policy(apply=True, repository=repository, account=account, branch=branch)
    (statement,) = document["Statement"]
    statement["Sid"] = "MoveRolloutsOnAScheduleFromTheDefaultBranch"
    statement["Condition"]["StringEquals"][f"{GITHUB_OIDC}:sub"] = _subjects(
        "rollout", repository, branch
    )
    return document


# Huawei Cloud: one identity provider (GitHub's issuer) per account, whose identity conversion
# rules map a job's OIDC subject to the user group that holds that role's policy.
HUAWEI_GROUPS = {
    "plan": "reconcile-plan",
    "apply": "reconcile-apply",
    "rollout": "reconcile-rollout",
}


def identity_conversion_rules(
    roles: Sequence[str], *, repository: str, branch: str = "main"
) -> list[dict[str, Any]]:
    """The identity conversion rules of a Huawei Cloud IAM identity provider for GitHub's OIDC
    tokens: a job is a federated user in the group of its role only if its ``sub`` is one of
    those the same role trusts on AWS (``any_one_of`` matches whole values, not patterns)."""
    _check_trust(repository, branch)
    return [
        {
            "local": [
                {"user": {"name": HUAWEI_GROUPS[role]}},
                {"group": {"name": HUAWEI_GROUPS[role]}},
            ],
            "remote": [{"type": "sub", "any_one_of": _subjects(role, repository, branch)}],
        }
        for role in roles
    ]
