"""The plan: a value that says what apply will do, and its saved-file format.

What a plan shows is derived from what apply sends: a change's field differences and its reason
are computed from ``before`` and ``after``, never stored and read back.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from reconciler import contract
from reconciler import functiongraph as fg
from reconciler.errors import InputError, PlanFileError
from reconciler.live import (
    WEIGHT_TOLERANCE,
    DesiredAlias,
    FunctionTarget,
    LiveAlias,
    Route,
    RouteRule,
)
from reconciler.rollout.model import Rollout
from reconciler.rollout.state import RolloutState, StateError

if TYPE_CHECKING:
    from reconciler.rollout.engine import Standing

# 2.0: a digest of the file's content; deletes record the prune policy that allowed them.
# 2.1: each function names its cloud (provider; absent is lambda) and FunctionGraph's package.
# 3.0: a change may carry a rollout. Only plans that hold one are written as 3.0, so a reader
# that knows no rollouts refuses them instead of moving all the traffic in one write.
FORMAT_VERSION = "2.1"
ROLLOUT_FORMAT_VERSION = "3.0"
READABLE_MAJORS = ("2", "3")
PROVIDERS = ("lambda", fg.PROVIDER)
DIGEST_PREFIX = "sha256:"


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

    | action | before                                      | after         |
    |--------|---------------------------------------------|---------------|
    | CREATE | None                                        | desired alias |
    | UPDATE | live alias; its RevisionId guards the write | desired alias |
    | DELETE | live alias; its RevisionId is re-checked    | None          |
    | NOOP   | live alias                                  | desired alias |

    ``prune`` and ``keep`` are the function's prune policy; a DELETE is applied only if it says
    ``prune: true`` and the alias matches no ``keep`` glob.

    ``recorded`` is the rollout's tag as read with ``before``, and ``hold`` why no rollout step
    may be made now (a freeze): what apply will do to a rollout is derived from them
    (``standing``), as the runner decides it.
    """

    action: Action
    target: FunctionTarget
    alias: str
    before: LiveAlias | None
    after: DesiredAlias | None
    prune: bool = False
    keep: tuple[str, ...] = ()
    recorded: RolloutState | None = None
    hold: str = ""

    @property
    def address(self) -> str:
        return self.target.alias_address(self.alias)

    @property
    def diffs(self) -> tuple[FieldDiff, ...]:
        """The managed fields that differ, derived from ``before`` and ``after``."""
        if self.after is None:
            return ()
        if self.before is None:
            return tuple(
                FieldDiff(k, None, v)
                for k, v in self.after.managed_fields().items()
                if v is not None
            )
        return field_diffs(self.before.fields_like(self.after), self.after.managed_fields())

    @property
    def rollout(self) -> Rollout | None:
        """The rollout apply follows for this change: only an update that changes the version of
        an alias whose manifest gives one. Creates and other updates apply at once."""
        if (
            self.action is Action.UPDATE
            and self.after is not None
            and self.before is not None
            and self.after.rollout is not None
            and self.before.version != self.after.version
        ):
            return self.after.rollout
        return None

    @property
    def standing(self) -> Standing | None:
        """What apply will do to this change's rollout now; None for a change without one, and
        for an alias already on its rollout's version unless that rollout is at 100 % with its
        end (the after hook, the record's removal) left to apply."""
        rollout = self.rollout
        ending = (
            rollout is None
            and self.action is Action.NOOP
            and self.after is not None
            and self.recorded is not None
        )
        if ending:
            assert self.after is not None
            rollout = self.after.rollout
        if rollout is None or self.before is None or self.after is None:
            return None
        from reconciler.rollout.engine import Phase, standing  # noqa: PLC0415 (engine imports plan)

        said = standing(
            rollout,
            self.after.version,
            self.before,
            self.recorded,
            name=f"{self.target.name}:{self.alias}",
            hold=self.hold,
            named=self.target.provider == "functiongraph",
        )
        return said if not ending or said.phase is Phase.AT_FULL else None

    @property
    def finishing(self) -> bool:
        """An alias as the manifest says, whose rollout apply ends: at 100 %, its after hook and
        the removal of its record left."""
        return self.action is Action.NOOP and self.standing is not None

    @property
    def held(self) -> bool:
        """A rollout that apply leaves as it is now: rolled back, stopped, or frozen."""
        standing = self.standing
        return standing is not None and not standing.writes

    @property
    def may_end_a_rollout(self) -> bool:
        """An update made at once to an alias that routes by weight: it may end a rollout under
        way (a revert in the manifest), so the rollout's tag is read with it. Rollouts never
        route by rules (FunctionGraph's), so an alias that does has none to end."""
        return (
            self.action is Action.UPDATE
            and self.rollout is None
            and self.before is not None
            and self.before.routing is not None
            and not self.before.routing.rules
        )

    @property
    def replaces(self) -> RolloutState | None:
        """The rollout under way that this update, applied at once, ends (the manifest went back
        to the old version, or elsewhere without a rollout): its record goes with it."""
        recorded, before = self.recorded, self.before
        if (
            self.action is not Action.UPDATE
            or self.rollout is not None
            or recorded is None
            or recorded.failed
            or before is None
            or before.version != recorded.old
            or before.routing is None
            or before.routing.version != recorded.new
        ):
            return None
        return recorded

    @property
    def reason(self) -> str:
        """Why, for display only: derived like ``diffs``, never driving apply."""
        if self.rollout is not None:
            return f"rollout {self.rollout.path()}"
        if self.action is Action.CREATE:
            return "not live"
        if self.action is Action.DELETE:
            return "not in the manifest; prune: true"
        if self.action is Action.UPDATE:
            return "differs: " + ", ".join(d.field for d in self.diffs)
        return ""


def field_diffs(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldDiff, ...]:
    """Each managed field that differs; inside nested fields (routing), each leaf, by deepdiff,
    with weights within the tolerance equal."""
    diffs: list[FieldDiff] = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            # Imported here: only nested differences need it, and `reconcile --help` stays fast.
            from deepdiff import DeepDiff  # noqa: PLC0415

            tree = DeepDiff(old, new, view="tree", math_epsilon=WEIGHT_TOLERANCE)
            diffs.extend(
                FieldDiff(
                    ".".join([name, *(str(p) for p in level.path(output_format="list"))]),
                    level.t1,
                    level.t2,
                )
                for levels in tree.values()
                for level in levels
            )
        else:
            diffs.append(FieldDiff(name, old, new))
    return tuple(sorted(diffs, key=lambda d: d.field))


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
        """The changes apply will make: NOOPs and held rollouts left out."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP and not c.held)

    @property
    def held(self) -> tuple[Change, ...]:
        """Rollouts apply leaves as they are now (rolled back, stopped, frozen): no write."""
        return tuple(c for c in self.changes if c.held)

    @property
    def finishing(self) -> tuple[Change, ...]:
        """Rollouts at 100 % that apply ends (after hook, record removed); the alias is as the
        manifest says."""
        return tuple(c for c in self.changes if c.finishing)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action and not c.held)

    @property
    def has_changes(self) -> bool:
        """Apply will write: an alias, or the end of a rollout at 100 %."""
        return bool(self.actions) or bool(self.finishing)

    def summary(self) -> str:
        held, ending = len(self.held), len(self.finishing)
        return (
            f"{self.count(Action.CREATE)} to add, {self.count(Action.UPDATE)} to change, "
            f"{self.count(Action.DELETE)} to destroy"
            + (f"; {ending} rollout{'s' * (ending != 1)} to finish" if ending else "")
            + (f"; {held} rollout{'s' * (held != 1)} held." if held else ".")
        )

    def stamped(self, created_at: str) -> Plan:
        return replace(self, created_at=created_at)


@dataclass(frozen=True, slots=True)
class Targets:
    """``--target`` globs. ``NAME:ALIAS`` (or a full address) selects aliases; a glob without
    ``:`` selects every alias of the functions it matches. No globs select everything; a glob
    that selects nothing is an error (a typo must not turn apply into a silent no-op)."""

    patterns: tuple[str, ...] = ()

    def function(self, target: FunctionTarget) -> bool:
        """True if some alias of this function may be selected, so it must be read."""
        return not self.patterns or any(_reaches(p, target) for p in self.patterns)

    def alias(self, target: FunctionTarget, alias: str) -> bool:
        return not self.patterns or any(_selects(p, target, alias) for p in self.patterns)

    def functions(self, targets: Iterable[T], key: Callable[[T], FunctionTarget]) -> list[T]:
        """The functions some glob can reach; ``InputError`` names any glob that reaches none."""
        if not self.patterns:
            return list(targets)
        items = list(targets)
        _refuse_unused(self.patterns, lambda p: any(_reaches(p, key(i)) for i in items), "function")
        return [i for i in items if self.function(key(i))]

    def select(self, plan: Plan) -> Plan:
        """Only what the globs select; the rest is neither planned nor touched. ``InputError``
        names any glob that selects no alias (managed, unmanaged, or of a missing function)."""
        if not self.patterns:
            return plan

        def used(pattern: str) -> bool:
            return (
                any(_selects(pattern, c.target, c.alias) for c in plan.changes)
                or any(_selects(pattern, t, a.name) for t, a in plan.unmanaged)
                or any(_reaches(pattern, t) for t in plan.missing_functions)
            )

        _refuse_unused(self.patterns, used, "alias")
        return replace(
            plan,
            changes=tuple(c for c in plan.changes if self.alias(c.target, c.alias)),
            unmanaged=tuple((t, a) for t, a in plan.unmanaged if self.alias(t, a.name)),
            missing_functions=tuple(t for t in plan.missing_functions if self.function(t)),
        )


T = TypeVar("T")


def _reaches(pattern: str, target: FunctionTarget) -> bool:
    return _matches(target, pattern.rpartition(":")[0] or pattern)


def _selects(pattern: str, target: FunctionTarget, alias: str) -> bool:
    if ":" not in pattern:
        return _matches(target, pattern)
    return fnmatch.fnmatchcase(f"{target.name}:{alias}", pattern) or fnmatch.fnmatchcase(
        target.alias_address(alias), pattern
    )


def _matches(target: FunctionTarget, pattern: str) -> bool:
    return fnmatch.fnmatchcase(target.name, pattern) or fnmatch.fnmatchcase(target.address, pattern)


def _refuse_unused(patterns: Iterable[str], used: Callable[[str], bool], what: str) -> None:
    unused = [p for p in patterns if not used(p)]
    if unused:
        shown = ", ".join(json.dumps(p) for p in unused)
        raise InputError(
            f"--target {shown} {'matches' if len(unused) == 1 else 'match'} no {what} of the "
            "manifests; check the spelling (FUNCTION, FUNCTION:ALIAS or "
            "ACCOUNT/REGION/FUNCTION:ALIAS, with * and ? as wildcards). Nothing was changed."
        )


# -- the saved-plan format ---------------------------------------------------------------------
# ``address``, ``summary``, ``diffs`` and ``reason`` are written for people and tools that read the
# JSON; they are covered by the digest but never read back: display derives them again.


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as plain data, with the digest of its canonical content."""
    version = (
        ROLLOUT_FORMAT_VERSION
        if any(c.after is not None and c.after.rollout for c in plan.changes)
        else FORMAT_VERSION
    )
    document: dict[str, Any] = {
        "format_version": version,
        "created_at": plan.created_at,
        "manifests_digest": plan.manifests_digest,
        "summary": {
            "add": plan.count(Action.CREATE),
            "change": plan.count(Action.UPDATE),
            "destroy": plan.count(Action.DELETE),
            "unchanged": plan.count(Action.NOOP),
            "held": len(plan.held),
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
    return {"format_version": version, "digest": content_digest(document), **document}


def content_digest(document: dict[str, Any]) -> str:
    """SHA-256 of the document's canonical JSON (sorted keys, no spaces), its digest left out."""
    content = {k: v for k, v in document.items() if k != "digest"}
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return DIGEST_PREFIX + hashlib.sha256(canonical.encode("ascii")).hexdigest()


def dumps_plan(plan: Plan) -> str:
    # ASCII: JSON leaves DEL, C1 controls and bidi overrides raw, and plans are shown on terminals.
    return json.dumps(plan_to_dict(plan), indent=2) + "\n"


def loads_plan(text: str, *, source: str = "plan") -> Plan:
    """Read a saved plan: intact (its digest matches), of a readable major version, and holding
    only changes the service would accept and apply may make. Unknown fields are ignored."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else f"invalid JSON: {exc}"
        raise PlanFileError(f"{source}: not a saved plan ({detail})") from None
    if not isinstance(data, dict) or "format_version" not in data:
        raise PlanFileError(f"{source}: not a saved plan (no format_version)")
    if str(data["format_version"]).split(".", 1)[0] not in READABLE_MAJORS:
        readable = " and ".join(f"{major}.x" for major in READABLE_MAJORS)
        raise PlanFileError(
            f"{source}: plan format {str(data['format_version'])[:20]!r} is not readable by this "
            f"version (reads {readable}); plan again with this version"
        )
    try:
        intact = data.get("digest") == content_digest(data)
    except ValueError:  # NaN or infinity: never written by plan --out
        intact = False
    if not intact:
        raise PlanFileError(
            f"{source}: the plan file was changed after it was written (its digest does not "
            "match); plan again"
        )
    try:
        reader = _Reader(data)
        plan = Plan(
            changes=tuple(_change_from(c) for c in reader.items("changes")),
            unmanaged=tuple(
                (_target_from(u), _live_from(u.at("alias"))) for u in reader.items("unmanaged")
            ),
            missing_functions=tuple(_target_from(t) for t in reader.items("missing_functions")),
            manifests_digest=reader.text("manifests_digest", ""),
            created_at=reader.text("created_at", ""),
        )
    except _Damaged as exc:
        raise PlanFileError(f"{source}: the saved plan is damaged: {exc}") from None
    problems = plan_problems(plan)
    if problems:
        more = [f"...and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise PlanFileError(
            f"{source}: the saved plan cannot be applied:", details=[*problems[:20], *more]
        )
    return plan


def plan_problems(plan: Plan) -> list[str]:
    """Why apply must refuse ``plan``, whatever produced it: changes the service would refuse,
    shapes apply cannot make, deletes no prune policy allowed, two changes for one alias."""
    problems: list[str] = []
    seen: set[tuple[FunctionTarget, str]] = set()
    for change in plan.changes:
        where = _shown(change.address)
        problems.extend(f"{where}: {problem}" for problem in _change_problems(change))
        key = (change.target, change.alias)
        if key in seen:
            problems.append(f"{where}: two changes for one alias")
        seen.add(key)
    return problems


# What each action needs: (before present, after present).
_SHAPES = {
    Action.CREATE: (False, True),
    Action.UPDATE: (True, True),
    Action.DELETE: (True, False),
    Action.NOOP: (True, True),
}


def _change_problems(change: Change) -> list[str]:
    if change.target.provider == fg.PROVIDER:
        return _fg_change_problems(change)
    target, problems = change.target, []
    try:
        ref = contract.parse_function_name(target.arn)
    except ValueError:
        ref = None
    if ref is None or (ref.account, ref.region, ref.name) != (
        target.account,
        target.region,
        target.name,
    ):
        problems.append(f"{_shown(target.arn)} is not a function ARN")
    elif target.partition != contract.partition_of(target.region):
        problems.append(f"partition {_shown(target.partition)} is not that of {target.region}")
    name_problem = contract.alias_name_problem(change.alias)
    if name_problem is not None:
        problems.append(name_problem)
    if change.before is not None:  # shown by show and apply: held to what the service says
        before = change.before
        for version in (before.version, *([before.routing.version] if before.routing else [])):
            problem = contract.version_problem(version)
            if problem is not None:
                problems.append(f"before: {problem}")
    return problems + _shape_problems(change)


def _fg_change_problems(change: Change) -> list[str]:
    """``_change_problems`` for a FunctionGraph function: its URN, names and versions."""
    target, problems = change.target, []
    try:
        ref = fg.parse_function(target.arn)
    except ValueError:
        ref = None
    if ref is None or (ref.project, ref.region, ref.package, ref.name) != (
        target.account,
        target.region,
        target.package,
        target.name,
    ):
        problems.append(f"{_shown(target.arn)} is not a FunctionGraph function URN")
    name_problem = fg.alias_name_problem(change.alias)
    if name_problem is not None:
        problems.append(name_problem)
    if change.before is not None:  # shown by show and apply: held to what the service says
        problems.extend(f"before: {p}" for p in _fg_before_problems(change.before))
    return problems + _shape_problems(change)


def _fg_before_problems(before: LiveAlias) -> list[str]:
    """Why ``before`` is not an alias FunctionGraph could have listed: its version names and
    rules, which show and apply print."""
    problems = []
    for version in (before.version, *([before.routing.version] if before.routing else [])):
        problem = fg.version_problem(version)
        if problem is not None:
            problems.append(problem)
    if before.routing is not None:
        problems.extend(
            problem
            for rule in before.routing.rules
            if (problem := fg.rule_problem("header", rule.header, rule.op, rule.value))
        )
    return problems


def _shape_problems(change: Change) -> list[str]:
    """What apply cannot make of a change, on any cloud."""
    problems: list[str] = []
    before_needed, after_needed = _SHAPES[change.action]
    verb = change.action.name.lower()
    if (change.before is not None) != before_needed:
        problems.append(f"action {verb} {'needs' if before_needed else 'has no'} 'before'")
    if (change.after is not None) != after_needed:
        problems.append(f"action {verb} {'needs' if after_needed else 'has no'} 'after'")
    for side in (change.before, change.after):
        if side is not None and side.name != change.alias:
            problems.append(f"it names alias {_shown(side.name)} inside")
    guarded = change.action in (Action.UPDATE, Action.DELETE)
    if guarded and change.before is not None and not change.before.revision_id:
        problems.append("no RevisionId to guard the write with")
    if change.after is not None:
        if change.target.provider == fg.PROVIDER:
            problems.extend(_fg_desired_problems(change.after))
        else:
            problems.extend(_desired_problems(change.after))
    if change.action is Action.UPDATE and change.before and change.after and not change.diffs:
        problems.append("an update that changes nothing")
    if change.action is Action.DELETE:
        if not change.prune:
            problems.append("a delete, but the plan does not record prune: true for its function")
        elif any(fnmatch.fnmatchcase(change.alias, glob) for glob in change.keep):
            problems.append("a delete of an alias that its function's keep globs protect")
    return problems


def _desired_problems(alias: DesiredAlias) -> list[str]:
    problems = []
    version_problem = contract.version_problem(alias.version)
    if version_problem is not None:
        problems.append(version_problem)
    if alias.description is not None and len(alias.description) > contract.DESCRIPTION_MAX:
        problems.append(f"a description longer than {contract.DESCRIPTION_MAX} characters")
    if alias.rollout is not None:
        if alias.routing is not None:
            problems.append("a rollout and routing together")
        if alias.version == contract.LATEST:
            problems.append("a rollout to $LATEST")
        problems.extend(f"rollout: {p}" for p in alias.rollout.problems())
    if alias.routing is not None:
        if not math.isfinite(alias.routing.weight):
            problems.append("a routing weight that is not a number")
        else:
            found = contract.routing_problem(
                alias.version, {alias.routing.version: alias.routing.weight}
            )
            if found is not None:
                problems.append(found[1])
    return problems


def _fg_desired_problems(alias: DesiredAlias) -> list[str]:
    problems = []
    version_problem = fg.version_problem(alias.version)
    if version_problem is not None:
        problems.append(version_problem)
    if alias.description is not None and len(alias.description) > fg.DESCRIPTION_MAX:
        problems.append(f"a description longer than {fg.DESCRIPTION_MAX} characters")
    if alias.rollout is not None:
        if alias.routing is not None:
            problems.append("a rollout and routing together")
        if alias.version == fg.LATEST:
            problems.append(f"a rollout to {fg.LATEST}")
        if alias.rollout.alarms:
            problems.append("a rollout gated on alarms, which FunctionGraph does not have")
        problems.extend(
            f"hook: {found}"
            for hook in alias.rollout.hooks
            if (found := fg.hook_problem(hook)) is not None
        )
        problems.extend(f"rollout: {p}" for p in alias.rollout.problems())
    route = alias.routing
    if route is not None:
        found = fg.routing_problem(
            alias.version, route.version, None if route.rules else route.weight
        )
        if found is not None:
            problems.append(found)
        if route.combine not in fg.COMBINE_TYPES:
            problems.append(f"combine must be one of {', '.join(fg.COMBINE_TYPES)}")
        problems.extend(
            problem
            for rule in route.rules
            if (problem := fg.rule_problem("header", rule.header, rule.op, rule.value))
        )
    return problems


def _shown(text: str) -> str:
    """Text from the file, quoted with every control character escaped: safe in an error."""
    return json.dumps(text[:200])


# -- reading, strictly ---------------------------------------------------------------------------


class _Damaged(Exception):
    """A field of the saved plan is missing or of the wrong type; the message says where."""


@dataclass(frozen=True, slots=True)
class _Reader:
    """One JSON object of the saved plan, read with its path, so a damaged field is named."""

    data: Any
    path: str = ""

    def _field(self, key: str) -> Any:
        if not isinstance(self.data, dict):
            raise _Damaged(f"{self.path or 'the plan'} is not an object")
        if key not in self.data:
            raise _Damaged(f"{self._sub(key)} is missing")
        return self.data[key]

    def _sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, default: str | None = None) -> str:
        if default is not None and isinstance(self.data, dict) and key not in self.data:
            return default
        value = self._field(key)
        if not isinstance(value, str):
            raise _Damaged(f"{self._sub(key)} must be text, not {type(value).__name__}")
        return value

    def optional_text(self, key: str) -> str | None:
        if isinstance(self.data, dict) and self.data.get(key, None) is None:
            return None
        return self.text(key)

    def boolean(self, key: str) -> bool:
        if isinstance(self.data, dict) and key not in self.data:
            return False
        value = self._field(key)
        if not isinstance(value, bool):
            raise _Damaged(f"{self._sub(key)} must be true or false")
        return value

    def number(self, key: str) -> float:
        value = self._field(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Damaged(f"{self._sub(key)} must be a number, not {type(value).__name__}")
        return float(value)

    def integer(self, key: str) -> int:
        value = self._field(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Damaged(f"{self._sub(key)} must be a whole number, not {type(value).__name__}")
        return value

    def integers(self, key: str) -> tuple[int, ...]:
        value = self._field(key)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise _Damaged(f"{self._sub(key)} must be a list of whole numbers")
        return tuple(value)

    def at(self, key: str) -> _Reader:
        value = self._field(key)
        if not isinstance(value, dict):
            raise _Damaged(f"{self._sub(key)} must be an object")
        return _Reader(value, self._sub(key))

    def optional(self, key: str) -> _Reader | None:
        if isinstance(self.data, dict) and self.data.get(key, None) is None:
            return None
        return self.at(key)

    def items(self, key: str) -> list[_Reader]:
        if isinstance(self.data, dict) and key not in self.data:
            return []
        value = self._field(key)
        if not isinstance(value, list):
            raise _Damaged(f"{self._sub(key)} must be a list")
        readers = [_Reader(item, f"{self._sub(key)}[{i}]") for i, item in enumerate(value)]
        for reader in readers:
            if not isinstance(reader.data, dict):
                raise _Damaged(f"{reader.path} must be an object")
        return readers

    def strings(self, key: str) -> tuple[str, ...]:
        if isinstance(self.data, dict) and key not in self.data:
            return ()
        value = self._field(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Damaged(f"{self._sub(key)} must be a list of text")
        return tuple(value)


def _target_to_dict(target: FunctionTarget) -> dict[str, Any]:
    data = {
        "provider": target.provider,
        "partition": target.partition,
        "account": target.account,
        "region": target.region,
        "function": target.name,
    }
    if target.provider == fg.PROVIDER:
        data["package"] = target.package
    return data


def _target_from(data: _Reader) -> FunctionTarget:
    provider = data.text("provider", "lambda")
    if provider not in PROVIDERS:
        raise _Damaged(
            f"{data.path}.provider {_shown(provider)} is not one of {', '.join(PROVIDERS)}"
        )
    return FunctionTarget(
        account=data.text("account"),
        region=data.text("region"),
        name=data.text("function"),
        partition=data.text("partition"),
        provider=provider,
        package=data.text("package") if provider == fg.PROVIDER else "",
    )


def _route_from(data: _Reader | None) -> Route | None:
    if data is None:
        return None
    if isinstance(data.data, dict) and "rules" in data.data:
        rules = tuple(
            RouteRule(r.text("header"), r.text("op"), r.text("value")) for r in data.items("rules")
        )
        if not rules:
            raise _Damaged(f"{data.path}.rules is empty")
        return Route(data.text("version"), 0.0, rules, data.text("combine"))
    return Route(data.text("version"), data.number("weight"))


def _live_to_dict(alias: LiveAlias) -> dict[str, Any]:
    return {
        "name": alias.name,
        "version": alias.version,
        "description": alias.description,
        "routing": None if alias.routing is None else alias.routing.to_dict(),
        "revision_id": alias.revision_id,
    }


def _live_from(data: _Reader) -> LiveAlias:
    return LiveAlias(
        name=data.text("name"),
        version=data.text("version"),
        description=data.text("description"),
        routing=_route_from(data.optional("routing")),
        revision_id=data.text("revision_id"),
    )


def _desired_to_dict(alias: DesiredAlias) -> dict[str, Any]:
    data = {"name": alias.name, **alias.managed_fields()}
    if alias.rollout is not None:
        data["rollout"] = alias.rollout.to_dict()
    return data


def _desired_from(data: _Reader) -> DesiredAlias:
    rollout = data.optional("rollout")
    return DesiredAlias(
        name=data.text("name"),
        version=data.text("version"),
        description=data.optional_text("description"),
        routing=_route_from(data.optional("routing")),
        rollout=None if rollout is None else _rollout_from(rollout),
    )


def _rollout_from(data: _Reader) -> Rollout:
    hooks = data.at("hooks")
    return Rollout(
        steps=data.integers("steps"),
        bake=data.integer("bake_seconds"),
        alarms=data.strings("alarms"),
        before=hooks.optional_text("before"),
        after=hooks.optional_text("after"),
    )


def _change_to_dict(change: Change) -> dict[str, Any]:
    data = {
        "address": change.address,
        "action": change.action.name.lower(),
        **_target_to_dict(change.target),
        "alias": change.alias,
        "before": None if change.before is None else _live_to_dict(change.before),
        "after": None if change.after is None else _desired_to_dict(change.after),
        "diffs": [{"field": d.field, "before": d.before, "after": d.after} for d in change.diffs],
        "reason": change.reason,
    }
    if change.action is Action.DELETE:
        data["prune"] = change.prune
        data["keep"] = list(change.keep)
    if change.recorded is not None:
        data["rollout_tag"] = change.recorded.to_tag()
    if change.hold:
        data["hold"] = change.hold
    if (standing := change.standing) is not None:  # for people and tools: never read back
        data["standing"] = {
            "phase": standing.phase.value,
            "apply_writes": standing.writes,
            "says": standing.says,
            "then": standing.then,
        }
    return data


_ACTIONS = {a.name.lower(): a for a in Action}


def _change_from(data: _Reader) -> Change:
    action = data.text("action")
    if action not in _ACTIONS:
        raise _Damaged(f"{data.path}.action {_shown(action)} is not one of {', '.join(_ACTIONS)}")
    before, after = data.optional("before"), data.optional("after")
    tag = data.optional_text("rollout_tag")
    try:
        recorded = None if tag is None else RolloutState.from_tag(tag)
    except StateError as exc:
        raise _Damaged(f"{data.path}.rollout_tag cannot be read: {exc}") from None
    return Change(
        action=_ACTIONS[action],
        target=_target_from(data),
        alias=data.text("alias"),
        before=None if before is None else _live_from(before),
        after=None if after is None else _desired_from(after),
        prune=data.boolean("prune"),
        keep=data.strings("keep"),
        recorded=recorded,
        hold=data.text("hold", ""),
    )
