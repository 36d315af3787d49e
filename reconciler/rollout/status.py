"""Where each rollout stands, for `rollout status` and `drift`; and a person's hand on one:
promote (100 % now), abort (roll back now), retry (forget a failure).

Reads the live alias, the function's tag and the alarms; the three commands make one guarded write
each, and keep the tag in step with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from reconciler.errors import InputError, PreconditionFailedError, ProviderError, ReconcilerError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias
from reconciler.plan import Change, Plan
from reconciler.providers.base import AliasWriter
from reconciler.rollout.cloud import RolloutCloud
from reconciler.rollout.engine import (
    ROLLBACK_ATTEMPTS,
    Clock,
    Phase,
    Position,
    position,
    read_states,
    rollout_changes,
    utc_now,
    versions_named,
)
from reconciler.rollout.model import Rollout, version_word
from reconciler.rollout.state import RolloutState, StateError, tag_key

# Phases a person needs to hear about; the others are ordinary (done) or drift (not started).
SHOWN = (Phase.BAKING, Phase.AT_FULL, Phase.ROLLBACK_PENDING, Phase.FAILED, Phase.STALE)
NOT_DRIFT = (Phase.BAKING, Phase.AT_FULL, Phase.ROLLBACK_PENDING, Phase.FAILED)


@dataclass(frozen=True, slots=True)
class RolloutStatus:
    change: Change
    rollout: Rollout
    old: str
    new: str
    where: Position
    state: RolloutState | None
    percent: int
    alarms: tuple[tuple[str, str], ...] = ()  # (name, state); MISSING when it does not exist

    @property
    def address(self) -> str:
        return self.change.address

    def said(self, version: str) -> str:
        """A version as people say it: v13 on Lambda, FunctionGraph's exactly as named."""
        return version_word(version, named=versions_named(self.change.target))

    @property
    def due(self) -> datetime | None:
        """When the next step is due, while a step bakes and its start is known."""
        if self.where.phase is not Phase.BAKING or self.where.since is None:
            return None
        return self.where.since + timedelta(seconds=self.rollout.bake)

    def step_text(self) -> str:
        total = len(self.rollout.steps) + 1
        if self.where.phase is Phase.BAKING:
            return f"{self.where.step} of {total}"
        if self.where.phase is Phase.AT_FULL:
            return f"{total} of {total}"
        return "-"

    def to_dict(self) -> dict[str, Any]:
        since = self.where.since or (self.state.since if self.state else None)
        return {
            "address": self.address,
            "phase": self.where.phase.value,
            "from": self.old,
            "to": self.new,
            "step": self.step_text(),
            "percent": self.percent,
            "started": None if since is None else since.isoformat(timespec="seconds"),
            "next_step_due": None if self.due is None else self.due.isoformat(timespec="seconds"),
            "why": self.where.message,
            "alarms": [{"name": n, "state": s} for n, s in self.alarms],
            "steps": list(self.rollout.steps),
        }


def percent_on(live: LiveAlias, new: str) -> int:
    if live.version == new:
        return 100 if live.routing is None else 0
    if live.routing is None or live.routing.version != new:
        return 0
    return round(live.routing.weight * 100)


def statuses(plan: Plan, cloud: RolloutCloud, *, alarms: bool = True) -> list[RolloutStatus]:
    """Every rollout of the plan that a person needs to hear about, with its alarms' states."""
    changes = rollout_changes(plan)
    states = read_states(cloud, changes)
    found: list[RolloutStatus] = []
    for change in changes:
        after, live = change.after, change.before
        assert after is not None
        assert after.rollout is not None
        assert live is not None
        state = states[(change.target, change.alias)]
        if isinstance(state, StateError):
            where = Position(Phase.STALE, message=str(state))
            state = None
        else:
            where = position(
                after.rollout, after.version, live, state, named=versions_named(change.target)
            )
        if where.phase not in SHOWN:
            continue
        old = state.old if state is not None and state.new == after.version else live.version
        found.append(
            RolloutStatus(
                change,
                after.rollout,
                old,
                after.version,
                where,
                state,
                percent_on(live, after.version),
            )
        )
    if alarms:
        found = _with_alarms(found, cloud)
    return found


def _with_alarms(found: list[RolloutStatus], cloud: RolloutCloud) -> list[RolloutStatus]:
    by_region: dict[str, set[str]] = {}
    for status in found:
        by_region.setdefault(status.change.target.region, set()).update(status.rollout.alarms)
    read = {region: cloud.alarm_states(region, names) for region, names in by_region.items()}
    return [
        replace(
            s,
            alarms=tuple(
                (name, read[s.change.target.region].get(name, "MISSING"))
                for name in s.rollout.alarms
            ),
        )
        for s in found
    ]


def _said(target: FunctionTarget) -> Callable[[str], str]:
    """How this function's versions are said: Lambda's 13 as v13, FunctionGraph's as named."""
    named = versions_named(target)
    return lambda version: version_word(version, named=named)


# -- a person's hand ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handled:
    """What promote, abort or retry did, in words."""

    address: str
    message: str


def _read(
    provider: AliasWriter, cloud: RolloutCloud, target: FunctionTarget, alias: str
) -> tuple[LiveAlias, RolloutState | None]:
    live = provider.get_alias(target, alias)
    if live is None:
        raise InputError(f"{target.alias_address(alias)} does not exist")
    value = cloud.tags(target).get(tag_key(alias))
    try:
        state = None if value is None else RolloutState.from_tag(value)
    except StateError as exc:
        raise InputError(
            f"the tag {tag_key(alias)} of {target.address} cannot be read ({exc}); remove it, "
            "or set it right"
        ) from None
    return live, state


def _guarded(
    provider: AliasWriter, target: FunctionTarget, live: LiveAlias, desired: DesiredAlias
) -> None:
    try:
        provider.update_alias(target, desired, live.revision_id)
    except PreconditionFailedError:
        raise InputError(
            f"{target.alias_address(live.name)} was changed by someone else while this ran; "
            "nothing was written. Look at it and try again"
        ) from None


def promote(
    provider: AliasWriter, cloud: RolloutCloud, target: FunctionTarget, alias: str
) -> Handled:
    """100 % on the new version now, skipping the bakes and gates left; the record is removed."""
    live, state = _read(provider, cloud, target, alias)
    address = target.alias_address(alias)
    said = _said(target)
    if live.routing is not None:
        new = live.routing.version
    elif state is not None and live.version == state.old:
        new = state.new
    else:
        raise InputError(f"{address} has no rollout to promote: it routes to no second version")
    _guarded(provider, target, live, DesiredAlias(alias, new, None, None))
    if state is not None:
        cloud.untag(target, tag_key(alias))
    return Handled(
        address,
        f"promoted: {said(new)} takes all the traffic (was {said(live.version)})",
    )


def abort(
    provider: AliasWriter,
    cloud: RolloutCloud,
    target: FunctionTarget,
    alias: str,
    clock: Clock = utc_now,
) -> Handled:
    """Roll back now: the failure (aborted) is recorded first, then the alias returns to the old
    version with no routing. It stands until a new version or a retry."""
    live, state = _read(provider, cloud, target, alias)
    address = target.alias_address(alias)
    said = _said(target)
    if state is not None and not state.failed and live.version in (state.old, state.new):
        old, new = state.old, state.new
    elif live.routing is not None:
        old, new = live.version, live.routing.version
    else:
        raise InputError(f"{address} has no rollout in progress to abort")
    recorded = (
        state if state is not None and state.new == new else RolloutState(old, new, 0, clock())
    )
    try:
        cloud.tag(target, tag_key(alias), recorded.failing("aborted", "by hand", clock()).to_tag())
        unrecorded: ProviderError | None = None
    except ProviderError as exc:  # a function at its tag limit, say: the traffic comes back first
        unrecorded = exc
    desired = DesiredAlias(alias, old, None, None)
    for _ in range(ROLLBACK_ATTEMPTS):
        if live.version == old and live.routing is None:
            break
        try:
            provider.update_alias(target, desired, live.revision_id)
            break
        except PreconditionFailedError:
            # Most often a runner's step of this rollout landing meanwhile: while the alias is
            # still on the old version routing to the new one, roll that back too, guarded.
            current = provider.get_alias(target, alias)
            if current is None or not (
                current.version == old
                and (current.routing is None or current.routing.version == new)
            ):
                raise InputError(
                    f"{address} was changed by someone else while this ran; the abort is "
                    f"recorded in the tag {tag_key(alias)}, but the alias was not rolled back. "
                    "Look at it, then abort again or run: reconcile rollout retry "
                    f"{target.name}:{alias}"
                ) from None
            live = current
    else:
        raise InputError(
            f"{address} kept changing while this ran; the abort is recorded in the tag "
            f"{tag_key(alias)}, so the next apply rolls it back. Look at it and try again"
        )
    if unrecorded is not None:
        raise ReconcilerError(
            f"{address}: rolled back to {version_word(old)}, but the abort was not recorded in "
            f"the tag {tag_key(alias)} ({unrecorded}); the next apply may start the rollout "
            f"to {version_word(new)} again: take it out of the manifest until that tag can be "
            "written"
        )
    return Handled(
        address,
        f"aborted: rolled back to {said(old)}; {said(new)} stays out until a retry",
    )


def retry(
    provider: AliasWriter, cloud: RolloutCloud, target: FunctionTarget, alias: str
) -> Handled:
    """Forget a failed rollout, so the next apply starts it over."""
    _, state = _read(provider, cloud, target, alias)
    address = target.alias_address(alias)
    said = _said(target)
    if state is None or not state.failed:
        raise InputError(f"{address} has no failed rollout to retry")
    cloud.untag(target, tag_key(alias))
    return Handled(
        address,
        f"the failure ({state.failed}) is forgotten: the next apply starts {said(state.new)} over",
    )


# -- rendering -----------------------------------------------------------------------------------


def status_json(found: Sequence[RolloutStatus]) -> str:
    return json.dumps({"rollouts": [s.to_dict() for s in found]}, indent=2) + "\n"


def apart(plan: Plan, cloud: RolloutCloud) -> tuple[Plan, list[RolloutStatus]]:
    """The plan less the rollouts in progress or rolled back (they are not drift), and those."""
    found = statuses(plan, cloud, alarms=False)
    kept = {(s.change.target, s.change.alias) for s in found if s.where.phase in NOT_DRIFT}
    return (
        replace(plan, changes=tuple(c for c in plan.changes if (c.target, c.alias) not in kept)),
        [s for s in found if s.where.phase in NOT_DRIFT],
    )
