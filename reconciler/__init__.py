"""reconciler: declarative GitOps for AWS Lambda aliases.

    manifests = load_manifests([Path("manifests")])
    desired = resolve(manifests.manifests, default_region="eu-west-1", default_account=account)
    the_plan = plan(desired, {d.target: provider.read_function(d.target) for d in desired})
    report = apply(the_plan, provider)

Names are imported on first use, so ``reconcile --help`` does not pay for pydantic or boto3.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_manifests": "reconciler.manifests",
    "ManifestSet": "reconciler.manifests",
    "FunctionSpec": "reconciler.spec",
    "AliasSpec": "reconciler.spec",
    "Routing": "reconciler.spec",
    "resolve": "reconciler.planner",
    "plan": "reconciler.planner",
    "DesiredFunction": "reconciler.planner",
    "apply": "reconciler.applier",
    "ApplyReport": "reconciler.applier",
    "Outcome": "reconciler.applier",
    "Action": "reconciler.plan",
    "Change": "reconciler.plan",
    "Plan": "reconciler.plan",
    "dumps_plan": "reconciler.plan",
    "loads_plan": "reconciler.plan",
    "FunctionTarget": "reconciler.live",
    "LiveAlias": "reconciler.live",
    "DesiredAlias": "reconciler.live",
    "ReconcilerError": "reconciler.errors",
}

__all__ = [
    "Action",
    "AliasSpec",
    "ApplyReport",
    "Change",
    "DesiredAlias",
    "DesiredFunction",
    "FunctionSpec",
    "FunctionTarget",
    "LiveAlias",
    "ManifestSet",
    "Outcome",
    "Plan",
    "ReconcilerError",
    "Routing",
    "apply",
    "dumps_plan",
    "load_manifests",
    "loads_plan",
    "plan",
    "resolve",
]

if TYPE_CHECKING:
    from reconciler.applier import ApplyReport, Outcome, apply
    from reconciler.errors import ReconcilerError
    from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias
    from reconciler.manifests import ManifestSet, load_manifests
    from reconciler.plan import Action, Change, Plan, dumps_plan, loads_plan
    from reconciler.planner import DesiredFunction, plan, resolve
    from reconciler.spec import AliasSpec, FunctionSpec, Routing


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
