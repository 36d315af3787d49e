"""What rollouts add to the IAM policies, scoped to what the manifests name: the managed
functions' tags (their state), the alarms (DescribeAlarms), and the hook functions (GetFunction to
check they exist when planning; InvokeFunction to run them when applying)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler import contract
from reconciler.manifests import Manifest
from reconciler.permissions import FunctionScope, actions_of, policy
from reconciler.rollout.cloud import RolloutCloud
from reconciler.rollout.state import TAG_PREFIX
from reconciler.spec import FunctionSpec

READ_OPERATIONS = ("tags",)
WRITE_OPERATIONS = ("tag", "untag")
# Tag/UntagResource only for the reconciler's own tag keys: a role that may tag a function could
# otherwise rewrite its ABAC or cost tags. Lambda checks aws:TagKeys on both actions.
OWN_TAG_KEYS = {"ForAllValues:StringLike": {"aws:TagKeys": [f"{TAG_PREFIX}*"]}}


@dataclass(frozen=True)
class RolloutScope:
    """A function with rollouts: its alarms and hook functions (as the manifest names them)."""

    function: FunctionScope
    alarms: tuple[str, ...]
    hooks: tuple[FunctionScope, ...]


def _iam_literal(name: str) -> str:
    """``name`` as IAM reads it literally in a resource: CloudWatch allows ``*``, ``?`` and ``$``
    in an alarm name, which IAM would take for wildcards (or a variable); its ``${*}``, ``${?}``
    and ``${$}`` stand for the characters themselves."""
    return "".join("${" + c + "}" if c in "*?$" else c for c in name)


def _alarm_arn(scope: FunctionScope, name: str) -> str:
    return (
        f"arn:{scope.partition}:cloudwatch:{scope.region or '*'}:{scope.account or '*'}:"
        f"alarm:{name}"
    )


def statements(scopes: Sequence[RolloutScope], *, apply: bool) -> list[dict[str, Any]]:
    """The statements rollouts need: none when no manifest has a rollout."""
    if not scopes:
        return []
    functions = sorted({s.function.arns()[0] for s in scopes})
    found: list[dict[str, Any]] = [
        {
            "Sid": "ReadRolloutState",
            "Effect": "Allow",
            "Action": actions_of(RolloutCloud, READ_OPERATIONS),
            "Resource": functions,
        }
    ]
    if apply:
        found.append(
            {
                "Sid": "RolloutState",
                "Effect": "Allow",
                "Action": actions_of(RolloutCloud, WRITE_OPERATIONS),
                "Resource": functions,
                "Condition": OWN_TAG_KEYS,
            }
        )
    alarms = sorted({_alarm_arn(s.function, a) for s in scopes for a in s.alarms})
    if alarms:
        found.append(
            {
                "Sid": "ReadRolloutAlarms",
                "Effect": "Allow",
                "Action": actions_of(RolloutCloud, ("alarm_states",)),
                "Resource": alarms,
            }
        )
    hooks = sorted({h.arns()[0] for s in scopes for h in s.hooks})
    if hooks:
        found.append(
            {
                "Sid": "RunRolloutHooks" if apply else "FindRolloutHooks",
                "Effect": "Allow",
                "Action": ["lambda:GetFunction", "lambda:InvokeFunction"]
                if apply
                else ["lambda:GetFunction"],
                "Resource": hooks,
            }
        )
    return found


def rollout_scopes(
    manifests: Sequence[Manifest], functions: Sequence[FunctionScope]
) -> list[RolloutScope]:
    """The functions (scoped as ``functions``, one per manifest) whose aliases have rollouts."""
    found = []
    for manifest, scope in zip(manifests, functions, strict=True):
        if not isinstance(manifest.spec, FunctionSpec):  # FunctionGraph aliases have none
            continue
        rollouts = [a.rollout for a in manifest.spec.aliases if a.rollout is not None]
        if not rollouts:
            continue
        alarms = tuple(dict.fromkeys(_iam_literal(n) for r in rollouts for n in r.alarms))
        hooks = []
        for rollout in rollouts:
            for hook in (rollout.hooks.before, rollout.hooks.after) if rollout.hooks else ():
                if hook is None:
                    continue
                ref = contract.parse_function_name(hook)
                hooks.append(
                    FunctionScope(
                        ref.name,
                        ref.region or scope.region,
                        ref.account or scope.account,
                        ref.partition or scope.partition,
                    )
                )
        found.append(RolloutScope(scope, alarms, tuple(dict.fromkeys(hooks))))
    return found


MOVE_OPERATIONS = ("get_alias", "update_alias")


def rollout_policy(
    provider: type, scopes: Sequence[RolloutScope], functions: Sequence[FunctionScope]
) -> dict[str, Any]:
    """The rollout role's policy: read the managed functions as plan does (a scheduled run plans
    them, then keeps only the rollouts under way), move the aliases of functions with rollouts
    (GetAlias, UpdateAlias: never create or delete one), and what rollouts themselves need. With
    no manifests, every function and alarm."""
    if not functions:
        any_function = FunctionScope("*")
        scopes = [RolloutScope(any_function, ("*",), (any_function,))]
    document = policy(provider, apply=False, functions=functions)
    moved = sorted({arn for s in scopes for arn in s.function.arns()})
    if moved:
        document["Statement"].append(
            {
                "Sid": "MoveRollouts",
                "Effect": "Allow",
                "Action": actions_of(provider, MOVE_OPERATIONS),
                "Resource": moved,
            }
        )
    document["Statement"].extend(statements(scopes, apply=True))
    return document
