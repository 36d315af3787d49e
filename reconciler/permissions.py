"""Least-privilege IAM policies, built from what each provider operation declares it calls."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# The provider operations each command uses. GetCallerIdentity needs no permission.
PLAN_OPERATIONS = ("read_function", "version_info", "provisioned_concurrency")
APPLY_OPERATIONS = (*PLAN_OPERATIONS, "get_alias", "create_alias", "update_alias")
PRUNE_OPERATIONS = ("get_alias", "delete_alias")


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


def policy(provider: type, *, apply: bool, functions: Sequence[FunctionScope]) -> dict[str, Any]:
    """An IAM policy document for ``plan`` (read only) or ``apply``, scoped to the functions'
    ARNs (or to every function when none are given)."""
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
    return {"Version": "2012-10-17", "Statement": statements}
