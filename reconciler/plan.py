"""The plan: a value that says what apply will do, and its saved-file format."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from reconciler.errors import PlanFileError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, Route

FORMAT_VERSION = "1.0"


class Action(str, Enum):
    """What apply does to one alias; the value is its display symbol."""

    CREATE = "+"
    UPDATE = "~"
    DELETE = "-"
    NOOP = " "


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One managed field that differs: ``field`` is a dotted path such as ``routing.weight``."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Change:
    """One alias and what apply does to it.

    | action | before                                    | after         |
    |--------|-------------------------------------------|---------------|
    | CREATE | None                                      | desired alias |
    | UPDATE | live alias; its RevisionId guards the write | desired alias |
    | DELETE | live alias; its RevisionId is re-checked  | None          |
    | NOOP   | live alias                                | desired alias |

    ``reason`` is for display only and never drives apply.
    """

    action: Action
    target: FunctionTarget
    alias: str
    before: LiveAlias | None
    after: DesiredAlias | None
    diffs: tuple[FieldDiff, ...] = ()
    reason: str = ""

    @property
    def address(self) -> str:
        return self.target.alias_address(self.alias)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every managed alias's change, plus what was seen but is not managed."""

    changes: tuple[Change, ...]
    unmanaged: tuple[tuple[FunctionTarget, LiveAlias], ...] = ()
    missing_functions: tuple[FunctionTarget, ...] = ()
    manifests_digest: str = ""
    created_at: str = ""

    @property
    def actions(self) -> tuple[Change, ...]:
        """The changes apply will make, NOOPs left out."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def summary(self) -> str:
        return (
            f"{self.count(Action.CREATE)} to add, {self.count(Action.UPDATE)} to change, "
            f"{self.count(Action.DELETE)} to destroy."
        )

    def stamped(self, created_at: str) -> Plan:
        return replace(self, created_at=created_at)


@dataclass(frozen=True, slots=True)
class Targets:
    """``--target`` globs. ``NAME:ALIAS`` (or a full address) selects aliases; a glob without
    ``:`` selects every alias of the functions it matches. No globs select everything."""

    patterns: tuple[str, ...] = ()

    def function(self, target: FunctionTarget) -> bool:
        """True if some alias of this function may be selected, so it must be read."""
        return not self.patterns or any(
            _matches(target, p.rpartition(":")[0] or p) for p in self.patterns
        )

    def alias(self, target: FunctionTarget, alias: str) -> bool:
        return not self.patterns or any(
            fnmatch.fnmatchcase(f"{target.name}:{alias}", p)
            or fnmatch.fnmatchcase(target.alias_address(alias), p)
            if ":" in p
            else _matches(target, p)
            for p in self.patterns
        )

    def select(self, plan: Plan) -> Plan:
        """Only what the globs select; the rest is neither planned nor touched."""
        if not self.patterns:
            return plan
        return replace(
            plan,
            changes=tuple(c for c in plan.changes if self.alias(c.target, c.alias)),
            unmanaged=tuple((t, a) for t, a in plan.unmanaged if self.alias(t, a.name)),
            missing_functions=tuple(t for t in plan.missing_functions if self.function(t)),
        )


def _matches(target: FunctionTarget, pattern: str) -> bool:
    return fnmatch.fnmatchcase(target.name, pattern) or fnmatch.fnmatchcase(target.address, pattern)


# -- the saved-plan format ---------------------------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "created_at": plan.created_at,
        "manifests_digest": plan.manifests_digest,
        "summary": {
            "add": plan.count(Action.CREATE),
            "change": plan.count(Action.UPDATE),
            "destroy": plan.count(Action.DELETE),
            "unchanged": plan.count(Action.NOOP),
        },
        "changes": [_change_to_dict(c) for c in plan.changes],
        "unmanaged": [
            {**_target_to_dict(t), "address": t.alias_address(a.name), "alias": _live_to_dict(a)}
            for t, a in plan.unmanaged
        ],
        "missing_functions": [
            {**_target_to_dict(t), "address": t.address} for t in plan.missing_functions
        ],
    }


def dumps_plan(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=False) + "\n"


def loads_plan(text: str, *, source: str = "plan") -> Plan:
    """Read a saved plan; unknown fields are ignored, an unknown major version is refused."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"{source}: not a saved plan (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise PlanFileError(f"{source}: not a saved plan (no format_version)")
    major = str(data["format_version"]).split(".", 1)[0]
    if major != FORMAT_VERSION.split(".", 1)[0]:
        raise PlanFileError(
            f"{source}: plan format {data['format_version']} is not readable by this version "
            f"(reads {FORMAT_VERSION.split('.', maxsplit=1)[0]}.x); plan again with this version"
        )
    try:
        return Plan(
            changes=tuple(_change_from_dict(c) for c in data.get("changes", [])),
            unmanaged=tuple(
                (_target_from_dict(u), _live_from_dict(u["alias"]))
                for u in data.get("unmanaged", [])
            ),
            missing_functions=tuple(
                _target_from_dict(t) for t in data.get("missing_functions", [])
            ),
            manifests_digest=str(data.get("manifests_digest", "")),
            created_at=str(data.get("created_at", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(
            f"{source}: saved plan is damaged ({type(exc).__name__}: {exc})"
        ) from None


def _target_to_dict(target: FunctionTarget) -> dict[str, Any]:
    return {
        "partition": target.partition,
        "account": target.account,
        "region": target.region,
        "function": target.name,
    }


def _target_from_dict(data: dict[str, Any]) -> FunctionTarget:
    return FunctionTarget(
        account=str(data["account"]),
        region=str(data["region"]),
        name=str(data["function"]),
        partition=str(data.get("partition", "aws")),
    )


def _route_from_dict(data: dict[str, Any] | None) -> Route | None:
    return None if data is None else Route(str(data["version"]), float(data["weight"]))


def _live_to_dict(alias: LiveAlias) -> dict[str, Any]:
    return {
        "name": alias.name,
        "version": alias.version,
        "description": alias.description,
        "routing": None if alias.routing is None else alias.routing.to_dict(),
        "revision_id": alias.revision_id,
    }


def _live_from_dict(data: dict[str, Any]) -> LiveAlias:
    return LiveAlias(
        name=str(data["name"]),
        version=str(data["version"]),
        description=str(data.get("description", "")),
        routing=_route_from_dict(data.get("routing")),
        revision_id=str(data["revision_id"]),
    )


def _desired_to_dict(alias: DesiredAlias) -> dict[str, Any]:
    return {"name": alias.name, **alias.managed_fields()}


def _desired_from_dict(data: dict[str, Any]) -> DesiredAlias:
    description = data.get("description")
    return DesiredAlias(
        name=str(data["name"]),
        version=str(data["version"]),
        description=None if description is None else str(description),
        routing=_route_from_dict(data.get("routing")),
    )


def _change_to_dict(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "action": change.action.name.lower(),
        **_target_to_dict(change.target),
        "alias": change.alias,
        "before": None if change.before is None else _live_to_dict(change.before),
        "after": None if change.after is None else _desired_to_dict(change.after),
        "diffs": [{"field": d.field, "before": d.before, "after": d.after} for d in change.diffs],
        "reason": change.reason,
    }


def _change_from_dict(data: dict[str, Any]) -> Change:
    before, after = data.get("before"), data.get("after")
    return Change(
        action=Action[str(data["action"]).upper()],
        target=_target_from_dict(data),
        alias=str(data["alias"]),
        before=None if before is None else _live_from_dict(before),
        after=None if after is None else _desired_from_dict(after),
        diffs=tuple(
            FieldDiff(d["field"], d.get("before"), d.get("after")) for d in data.get("diffs", [])
        ),
        reason=str(data.get("reason", "")),
    )
