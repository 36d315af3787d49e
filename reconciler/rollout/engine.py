"""The rollout engine: where a rollout stands (pure, from the live alias and its tag), and a runner
that moves it on with guarded writes, watching its alarms through every bake.

Level-triggered: every run starts from what it reads, never from memory, so any runner resumes
any rollout. A step is one UpdateAlias carrying the RevisionId of the answer before it; a 412 that
is not our own write met again stops the rollout and overwrites nothing. A failure is recorded on
the function before the rollback is written, so a runner killed between the two finishes the
rollback and never starts the rollout again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum

from reconciler.applier import Outcome as Applied
from reconciler.applier import Result
from reconciler.errors import (
    AccessDeniedError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
)
from reconciler.functiongraph import PROVIDER as FUNCTIONGRAPH
from reconciler.live import WEIGHT_TOLERANCE, DesiredAlias, FunctionTarget, LiveAlias, Route
from reconciler.plan import Action, Change, Plan
from reconciler.providers.base import AliasWriter
from reconciler.rollout.cloud import AlarmBoard, RolloutCloud, first_in_alarm
from reconciler.rollout.model import Rollout, duration_text, version_word
from reconciler.rollout.state import RolloutState, StateError, tag_key

POLL_MAX_SECONDS = 10.0  # alarms are read at least this often during a bake
POLL_MIN_SECONDS = 0.2
CLOCK_SKEW = timedelta(minutes=1)  # a recorded start later than now by more is not believed
ROLLBACK_ATTEMPTS = 3  # a rollback met by other runners' steps is made again, guarded, this often
Clock = Callable[[], datetime]


def versions_named(target: FunctionTarget) -> bool:
    """Whether the function's versions are names (FunctionGraph's), said as they are."""
    return target.provider == FUNCTIONGRAPH


def utc_now() -> datetime:
    return datetime.now(UTC)


class Phase(str, Enum):
    """Where a rollout stands, as the live alias and its recorded state say."""

    NOT_STARTED = "not started"
    BAKING = "in progress"
    AT_FULL = "at 100%"  # the last write landed; the after hook and the clean-up remain
    DONE = "done"
    FAILED = "rolled back"  # a failure stands: no write until a new version or a retry
    ROLLBACK_PENDING = "rolling back"  # a failure is recorded, the rollback write is not made
    STALE = "changed by someone else"


@dataclass(frozen=True, slots=True)
class Position:
    phase: Phase
    step: int = 0  # the step now live, from 1 (BAKING)
    since: datetime | None = None  # when that step began; None: not recorded, the bake starts now
    message: str = ""
    adopted: float | None = None  # a weight between steps, found live, held as ``step``


def step_of(rollout: Rollout, weight: float) -> int | None:
    """The step (from 1) whose weight this is, or None."""
    return next(
        (i + 1 for i, w in enumerate(rollout.weights) if abs(w - weight) <= WEIGHT_TOLERANCE),
        None,
    )


def position(
    rollout: Rollout,
    new: str,
    live: LiveAlias,
    state: RolloutState | None,
    *,
    named: bool = False,
) -> Position:
    """Where the rollout of ``live`` to version ``new`` stands. Pure."""
    mine = state if state is not None and state.new == new else None
    routing = live.routing
    if mine is not None and mine.failed:
        why = mine.failure_words()
        if live.version == new and routing is None:
            return Position(Phase.DONE, message="moved to the new version by someone else")
        if live.version == mine.old and routing is not None and routing.version == new:
            return Position(Phase.ROLLBACK_PENDING, message=why)
        if live.version == mine.old and routing is None:
            return Position(Phase.FAILED, message=why)
        return Position(
            Phase.STALE,
            message=f"rolled back earlier ({why}), then changed by someone else "
            f"(now {version_word(live.version, named=named)})",
        )
    if live.version == new:
        if routing is None:
            return Position(Phase.AT_FULL if mine is not None else Phase.DONE)
        return Position(
            Phase.STALE,
            message=f"it is on {version_word(new, named=named)} with routing to "
            f"{version_word(routing.version, named=named)}, which no step makes",
        )
    if mine is not None and mine.step >= 1:
        if mine.old != live.version:
            return Position(
                Phase.STALE,
                message=f"it is on {version_word(live.version, named=named)}, not "
                f"{version_word(mine.old, named=named)} as recorded",
            )
        if routing is None or routing.version != new or routing.rules:
            return Position(
                Phase.STALE,
                message=f"its routing to {version_word(new, named=named)} was removed or changed",
            )
    if routing is None or routing.version != new or routing.rules:
        # Header rules (FunctionGraph) route no share of the traffic: no step of a rollout.
        return Position(Phase.NOT_STARTED)
    weight = routing.weight
    step = step_of(rollout, weight)
    if mine is None:
        if step is not None:
            return Position(Phase.BAKING, step)  # not recorded: hold it a full bake from now
        # Routing of the manifest's own (a canary by hand, say) at a weight between steps, or
        # below the first (step 0): held a full bake from now, then on to the next step above
        # it, never back below it.
        below = sum(1 for w in rollout.weights if w < weight)
        return Position(Phase.BAKING, below, adopted=weight)
    # The step is the live weight's place among the steps, whatever step the tag names, so
    # steps changed in the manifest carry on from where the traffic is, and a tag rewritten to
    # name a later step skips none; the tag says since when that weight has been held.
    at = step if step is not None else sum(1 for w in rollout.weights if w < weight)
    adopted = None if step is not None else weight
    held = recorded_weight(rollout, mine)
    if held is not None and abs(held - weight) <= WEIGHT_TOLERANCE:
        return Position(Phase.BAKING, at, mine.since, adopted=adopted)
    if held is not None and step is not None and step == _next_step(rollout, held):
        return Position(Phase.BAKING, step)  # written, but killed before it was recorded
    recorded = "" if held is None else f", not {held:.4g} as recorded"
    return Position(
        Phase.STALE,
        message=f"it routes {weight:.4g} to {version_word(new, named=named)}{recorded}; "
        "someone else set it",
    )


def recorded_weight(rollout: Rollout, state: RolloutState) -> float | None:
    """The weight a tag says is held: its ``weight=``, or (a tag without one) its step's."""
    if state.weight is not None:
        return state.weight
    if state.step == 0:
        return 0.0
    if state.step <= len(rollout.weights):
        return rollout.weights[state.step - 1]
    return None


def _next_step(rollout: Rollout, weight: float) -> int:
    """The step (from 1) that follows ``weight``: the first above it."""
    return 1 + sum(1 for w in rollout.weights if w <= weight + WEIGHT_TOLERANCE)


@dataclass(frozen=True, slots=True)
class Standing:
    """What apply does to a rollout now, as the plan says it: ``writes`` is False when apply
    leaves the alias as it is; ``then`` is what a person may run about it."""

    phase: Phase
    writes: bool
    says: str
    then: str = ""


def standing(
    rollout: Rollout,
    new: str,
    live: LiveAlias,
    recorded: RolloutState | None,
    *,
    name: str,
    hold: str = "",
    named: bool = False,
) -> Standing:
    """Where the rollout of ``live`` (``name`` is FUNCTION:ALIAS) to ``new`` stands and what apply
    will do to it now, from the live alias and its recorded state, as the runner decides. Pure."""
    where = position(rollout, new, live, recorded, named=named)
    phase = where.phase
    if phase is Phase.FAILED:
        assert recorded is not None
        return Standing(
            phase,
            False,
            f"rolled back: {recorded.failure_words()} at {_time(recorded.since)}; apply writes "
            "nothing while that failure stands",
            f"to try again: reconcile rollout retry {name}",
        )
    if phase is Phase.ROLLBACK_PENDING:
        assert recorded is not None
        return Standing(
            phase,
            True,
            f"{recorded.failure_words()} at {_time(recorded.since)}: apply rolls back to "
            f"{version_word(recorded.old, named=named)}",
        )
    if phase is Phase.STALE:
        return Standing(phase, False, f"stopped: {where.message}; apply leaves it as it is")
    if phase is Phase.AT_FULL:
        assert recorded is not None
        on = version_word(new, named=named)
        ended = f"at 100% on {on} (the rollout from {version_word(recorded.old, named=named)})"
        if rollout.after:
            return Standing(
                phase,
                True,
                f"{ended}: apply runs the after hook {rollout.after}, then removes the "
                f"rollout's record; if it fails, the failure is recorded and the alias stays "
                f"on {on}",
            )
        return Standing(phase, True, f"{ended}: apply removes the rollout's record")
    if phase is Phase.BAKING:
        at = percent_text(live.routing.weight if live.routing else 0.0)
        if hold:
            return Standing(
                phase,
                False,
                f"held at {at} on {version_word(new, named=named)}: {hold}; apply moves nothing, "
                "and rolls back if an alarm fires",
            )
        after = rollout.steps[where.step] if where.step < len(rollout.steps) else 100
        due = (
            f"at {_time(where.since + timedelta(seconds=rollout.bake))}"
            if where.since is not None
            else f"after a {duration_text(rollout.bake)} bake from the next apply"
        )
        total = len(rollout.steps) + 1
        step = f"step {where.step} of {total}" if where.step else f"below step 1 of {total}"
        return Standing(
            phase,
            True,
            f"under way, at {at} on {version_word(new, named=named)} ({step}); "
            f"next: {after}% {due}",
        )
    if hold:
        return Standing(phase, False, f"not started: {hold}")
    if phase is Phase.NOT_STARTED and live.routing is not None:
        return Standing(phase, True, f"not started; {_replaced(live, recorded, named=named)}")
    return Standing(phase, phase is Phase.NOT_STARTED, where.message)


def _replaced(live: LiveAlias, recorded: RolloutState | None, *, named: bool) -> str:
    """The routing a rollout's first step replaces, in words: the rollout to another version
    it ends, a share by hand, or header rules (FunctionGraph)."""
    routing = live.routing
    assert routing is not None
    to = version_word(routing.version, named=named)
    if routing.rules:
        rules = f" {routing.combine} ".join(str(r) for r in routing.rules)
        return f"removes the rule routing ({rules} to {to})"
    at = percent_text(routing.weight)
    if (
        recorded is not None
        and not recorded.failed
        and recorded.new == routing.version
        and recorded.old == live.version
    ):
        old = version_word(recorded.old, named=named)
        return f"ends the rollout {old} -> {to} (at {at} on {to})"
    return f"removes {at} on {to}"


def percent_text(weight: float) -> str:
    """A weight as an exact percentage: 0.25 is 25%, 0.123 is 12.3%."""
    share = (Decimal(repr(weight)) * 100).normalize()
    return f"{share:f}%"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Outcome(str, Enum):
    """How a rollout ended this run: "rollout payments-api:live ..."."""

    COMPLETED = "completed"
    IN_PROGRESS = "in progress"
    ROLLED_BACK = "rolled back"
    STALE = "stale"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Event:
    """One moment of a rollout, for the report and its chart: the weight on the new version
    from then, in percent, and what happened."""

    at: datetime
    percent: int
    what: str


@dataclass(frozen=True, slots=True)
class RolloutResult:
    change: Change
    outcome: Outcome
    message: str = ""
    events: tuple[Event, ...] = ()

    @property
    def address(self) -> str:
        return self.change.address


class _Stop(Exception):
    """The rollout ends here with this result."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message


@dataclass
class Runner:
    """Moves one rollout on: to completion (``wait``), or by at most one due step."""

    change: Change
    state: RolloutState | None
    provider: AliasWriter
    cloud: RolloutCloud
    wait: bool = True
    stop: threading.Event = field(default_factory=threading.Event)
    say: Callable[[str, str], None] = lambda address, line: None
    clock: Clock = utc_now
    hold: str = ""  # why no step may be made now (a freeze): the alarms are still watched
    board: AlarmBoard | None = None  # shared by the rollouts of one run
    # False for the scheduled runner (--rollouts-only): it moves on only rollouts it finds
    # recorded, never starts one or takes over routing it did not write
    take_over: bool = True
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        after, before = self.change.after, self.change.before
        assert after is not None
        assert after.rollout is not None
        assert before is not None
        self.rollout: Rollout = after.rollout
        self.new = after.version
        self.description = after.description
        self.live: LiveAlias = before
        self.target: FunctionTarget = self.change.target
        self.alias = self.change.alias

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> RolloutResult:
        try:
            outcome, message = self._run()
        except _Stop as stop:
            outcome, message = stop.outcome, stop.message
        except ProviderError as exc:
            outcome, message = Outcome.FAILED, str(exc)
        except StateError as exc:
            outcome, message = Outcome.FAILED, str(exc)
        return RolloutResult(self.change, outcome, message, tuple(self.events))

    def _run(self) -> tuple[Outcome, str]:
        if self.state is not None and in_the_future(self.state, self.clock()):
            # A start in the future would hold the rollout until then (years, for a tag set by
            # hand), every run saying the next step is due then: the tag is not believed.
            return Outcome.FAILED, future_words(self.alias, self.state)
        planned = self.change.recorded
        if (
            planned is not None
            and planned.failed
            and planned.new == self.new
            and not (self.state is not None and self.state.failed and self.state.new == self.new)
        ):
            # The plan showed this rollout held: it is not started on a plan that did not say so.
            return Outcome.STALE, (
                f"the plan showed it rolled back ({planned.failure_words()}), and that failure "
                "was cleared since; nothing written: plan again"
            )
        where = position(
            self.rollout, self.new, self.live, self.state, named=versions_named(self.target)
        )
        phase = where.phase
        recorded = self.state is not None and self.state.new == self.new
        if not self.take_over and not recorded and phase in (Phase.NOT_STARTED, Phase.BAKING):
            return Outcome.UNCHANGED, (
                f"routing to {self._said(self.new)} that no rollout recorded; not taken over by "
                "--rollouts-only: an approved apply takes it over, or starts the rollout"
            )
        if phase is Phase.STALE:
            return Outcome.STALE, f"{where.message}; left as it is, the rollout stopped"
        if phase is Phase.DONE:
            return Outcome.UNCHANGED, where.message or f"already on {self._said(self.new)}"
        if phase is Phase.FAILED:
            return Outcome.ROLLED_BACK, (
                f"rolled back earlier ({where.message}); no write while that failure stands. "
                "Set a new version, or run: reconcile rollout retry "
                f"{self.target.name}:{self.alias}"
            )
        if phase is Phase.ROLLBACK_PENDING:
            assert self.state is not None
            return self._roll_back(self.state, where.message)
        if phase is Phase.AT_FULL:
            assert self.state is not None
            self._check_live()
            return self._finish(self.state, promoted=False)
        if phase is Phase.NOT_STARTED:
            if self.hold:
                return Outcome.IN_PROGRESS, f"not started: {self.hold}"
            self._check_live()
            state = RolloutState(self.live.version, self.new, 0, self.clock())
            self._check_stop()
            alarm = self._alarm()  # never start while an alarm fires
            if alarm is not None:
                return self._fail(state, "alarm", alarm[0], why=alarm[1], moved=False)
            if self.rollout.before:
                answer = self.cloud.invoke_hook(
                    self.target, self.rollout.before, self._event("before")
                )
                if not answer.ok:
                    return self._fail(
                        state, "hook", self.rollout.before, why=answer.why, moved=False
                    )
            # Recorded before the first write: a function that refuses the tag (at its tag
            # limit, say) has no traffic moved that no record accounts for.
            self._record(state)
            state = self._step(state, 1)
            if not self.wait:
                return Outcome.IN_PROGRESS, self._due(state)
        else:
            old = self.live.version
            since = where.since
            held = self.live.routing.weight if self.live.routing is not None else None
            state = RolloutState(old, self.new, where.step, since or self.clock(), weight=held)
            if since is None:  # record the step it is at; its bake starts now
                self._check_live()
                self._record(state)
        while True:
            ended = self._bake(state)
            if ended is not None:
                return ended
            if self.hold:
                return (
                    Outcome.IN_PROGRESS,
                    f"held at {self._percent()}% on {self._said(self.new)}: {self.hold}",
                )
            if state.step == len(self.rollout.steps):
                state = self._promote(state)
                return self._finish(state, promoted=True)
            state = self._step(state, state.step + 1)
            if not self.wait:
                return Outcome.IN_PROGRESS, self._due(state)

    def _bake(self, state: RolloutState) -> tuple[Outcome, str] | None:
        """Hold the step through its bake, reading the alarms throughout; None when it is due."""
        due = state.since + timedelta(seconds=self.rollout.bake)
        poll = max(POLL_MIN_SECONDS, min(POLL_MAX_SECONDS, self.rollout.bake / 5))
        while True:
            alarm = self._alarm()
            if alarm is not None:
                self.events.append(Event(self.clock(), self._percent(), f"alarm {alarm[0]}"))
                return self._fail(state, "alarm", alarm[0], why=alarm[1])
            left = (due - self.clock()).total_seconds()
            if left <= 0:
                return None
            if not self.wait:
                return Outcome.IN_PROGRESS, self._due(state)
            if self.stop.wait(min(poll, left)):
                return Outcome.INTERRUPTED, (
                    f"stopped during the bake of step {state.step}; traffic stays at "
                    f"{self._percent()}% on {self._said(self.new)}. Apply again to resume"
                )

    def _alarm(self) -> tuple[str, str] | None:
        """The first alarm that fails the rollout now, and why: in ALARM, or gone."""
        if not self.rollout.alarms:
            return None
        board = self.board or AlarmBoard(self.cloud)
        self.board = board
        states = board.states(self.target.region, self.rollout.alarms)
        fired = first_in_alarm(self.rollout.alarms, states)
        if fired is not None:
            return fired, f"alarm {fired} is in ALARM"
        gone = next((a for a in self.rollout.alarms if a not in states), None)
        if gone is not None:
            return gone, f"alarm {gone} no longer exists"
        return None

    # -- writes, each guarded by the RevisionId of the answer before -----------------------------

    def _step(self, state: RolloutState, step: int) -> RolloutState:
        weight = self.rollout.weights[step - 1]
        self._check_recorded()
        self._write(DesiredAlias(self.alias, state.old, self.description, Route(self.new, weight)))
        state = RolloutState(state.old, self.new, step, self.clock(), weight=weight)
        self._record(state)
        percent = self.rollout.steps[step - 1]
        self.events.append(Event(state.since, percent, f"step {step}"))
        self.say(
            "step",
            f"{percent}% on {self._said(self.new)} "
            f"(step {step} of {len(self.rollout.steps) + 1}); "
            f"next step after {duration_text(self.rollout.bake)}",
        )
        return state

    def _promote(self, state: RolloutState) -> RolloutState:
        self._check_recorded()
        self._write(DesiredAlias(self.alias, self.new, self.description, None))
        state = RolloutState(state.old, self.new, len(self.rollout.steps) + 1, self.clock())
        self._record(state)
        self.events.append(Event(state.since, 100, "100%"))
        self.say("step", f"100% on {self._said(self.new)} (step {state.step} of {state.step})")
        return state

    def _finish(self, state: RolloutState, *, promoted: bool) -> tuple[Outcome, str]:
        """After 100 %: the after hook, then the record is removed.

        A failed after hook rolls back only when this run wrote the 100 % step (``promoted``):
        then the old version is the one the alias was on when this run replaced it. A run that
        finds the alias at 100 % already knows the old version from the tag alone, which anyone
        who may tag the function can write: it records the failure (so no later run invokes the
        hook again) and leaves the alias on the new version."""
        if self.rollout.after:
            answer = self.cloud.invoke_hook(self.target, self.rollout.after, self._event("after"))
            if not answer.ok and promoted:
                return self._fail(state, "hook", self.rollout.after, why=answer.why)
            if not answer.ok:
                self._record(state.failing("hook", self.rollout.after, self.clock()))
                message = (
                    f"{answer.why}; the alias stays on {self._said(self.new)}: it was at 100% "
                    "before this run, so no version it routed from is known here to roll back "
                    "to (roll back by hand if need be)"
                )
                self.say("failed", message)
                return Outcome.FAILED, message
        self.cloud.untag(self.target, tag_key(self.alias))
        self.say("done", f"{self._said(self.new)} takes all the traffic")
        return Outcome.COMPLETED, f"{self._said(state.old)} -> {self._said(self.new)} done"

    def _fail(
        self, state: RolloutState, failed: str, name: str, *, why: str = "", moved: bool = True
    ) -> tuple[Outcome, str]:
        """Record the failure first, then roll back: a runner killed between the two finishes
        the rollback, and never starts this rollout again by itself."""
        why = why or name
        failing = state.failing(failed, name, self.clock())
        self._record(failing)
        if not moved:
            self.say("failed", f"{why}; no traffic moved")
            return Outcome.ROLLED_BACK, f"{why}; no traffic moved"
        return self._roll_back(failing, why)

    def _roll_back(self, state: RolloutState, why: str) -> tuple[Outcome, str]:
        """The failure is recorded already. A 412 here is most often another runner's step of
        this same rollout landing meanwhile: while the alias is still on the old version with
        routing to the new one (at any weight), that step is rolled back too, guarded by the
        RevisionId just read; anything else is left as it is."""
        desired = DesiredAlias(self.alias, state.old, None, None)
        for _ in range(ROLLBACK_ATTEMPTS):
            try:
                self._write(desired, stoppable=False)
                break
            except _Stop as stop:
                current = self.provider.get_alias(self.target, self.alias)
                if (
                    current is None
                    or current.version != state.old
                    or current.routing is None
                    or current.routing.version != self.new
                ):
                    raise _Stop(
                        Outcome.STALE, f"{why}, but not rolled back: {stop.message}"
                    ) from None
                self.live = current
        else:
            raise _Stop(
                Outcome.STALE,
                f"{why}, but not rolled back: the alias kept changing; the failure is recorded, "
                "so the next apply rolls it back",
            )
        self.events.append(Event(self.clock(), 0, "rolled back"))
        self.say("rolled back", f"to {self._said(state.old)}: {why}")
        return Outcome.ROLLED_BACK, f"rolled back to {self._said(state.old)}: {why}"

    def _write(self, desired: DesiredAlias, *, stoppable: bool = True) -> None:
        """One UpdateAlias, guarded by the RevisionId of the last answer; a 412 that is not our
        own write met again stops the rollout, and nothing is overwritten. A rollback is made
        even when stopping (``stoppable`` False)."""
        if stoppable:
            self._check_stop()
        try:
            self.live = self.provider.update_alias(self.target, desired, self.live.revision_id)
        except PreconditionFailedError:
            current = self.provider.get_alias(self.target, self.alias)
            if current is None:
                raise _Stop(Outcome.STALE, "the alias was deleted by someone else") from None
            if not current.satisfies(desired):
                raise _Stop(
                    Outcome.STALE,
                    f"the alias was changed by someone else (now {self._said(current.version)}"
                    + (f", {current.routing}" if current.routing else "")
                    + "); left as it is, the rollout stopped",
                ) from None
            self.live = current
        except NotFoundError:
            if self.provider.get_alias(self.target, self.alias) is None:
                raise _Stop(Outcome.STALE, "the alias was deleted by someone else") from None
            raise

    def _check_live(self) -> None:
        """Read the alias before a write that no guarded write precedes (a record, a hook): a
        rollout whose alias changed since the plan read it (a saved plan applied after the
        rollout moved on, or ended) is stale, and nothing is written or invoked."""
        current = self.provider.get_alias(self.target, self.alias)
        if current is None:
            raise _Stop(Outcome.STALE, "the alias was deleted by someone else; nothing written")
        if current.revision_id != self.live.revision_id:
            raise _Stop(
                Outcome.STALE,
                f"the alias changed since it was planned (now {self._said(current.version)}"
                + (f", {current.routing}" if current.routing else "")
                + "); nothing written: plan again",
            )

    def _check_recorded(self) -> None:
        """Read the tag again before a step: another runner of this rollout may have recorded a
        failure (and rolled back) since this one read it; then no step is made, and what that
        runner recorded stands."""
        value = self.cloud.tags(self.target).get(tag_key(self.alias))
        if value is None:
            return
        recorded = RolloutState.from_tag(value)
        if recorded.new == self.new and recorded.failed:
            why = recorded.failure_words()
            raise _Stop(
                Outcome.ROLLED_BACK,
                f"a failure was recorded meanwhile by another run ({why}); no step made",
            )

    def _record(self, state: RolloutState) -> None:
        self.state = state
        self.cloud.tag(self.target, tag_key(self.alias), state.to_tag())

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise _Stop(
                Outcome.INTERRUPTED,
                f"stopped; traffic stays at {self._percent()}% on {self._said(self.new)}. "
                "Apply again to "
                "resume",
            )

    # -- words -----------------------------------------------------------------------------------

    def _said(self, version: str) -> str:
        return version_word(version, named=versions_named(self.target))

    def _percent(self) -> int:
        if self.live.version == self.new:
            return 100 if self.live.routing is None else 0
        routing = self.live.routing
        if routing is None or routing.version != self.new:
            return 0
        return round(routing.weight * 100)

    def _due(self, state: RolloutState) -> str:
        due = state.since + timedelta(seconds=self.rollout.bake)
        return (
            f"at {self._percent()}% on {self._said(self.new)} "
            f"({'step ' + str(state.step) if state.step else 'below step 1'} of "
            f"{len(self.rollout.steps) + 1}); next step due {due.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )

    def _event(self, hook: str) -> dict[str, str]:
        """What a hook is told: which rollout, and when in it."""
        return {
            "hook": hook,
            "function": self.target.name,
            "alias": self.alias,
            "from": self.live.version
            if hook == "before"
            else (self.state.old if self.state else ""),
            "to": self.new,
        }


def in_the_future(state: RolloutState, now: datetime) -> bool:
    """A recorded start later than now (by more than the skew allowed): not believed, as plan
    and apply both decide. A recorded failure is believed whatever its time says: what it leads
    to is a rollback to the version the alias is on, the safe direction."""
    return not state.failed and state.since > now + CLOCK_SKEW


def future_words(alias: str, state: RolloutState) -> str:
    return (
        f"the tag {tag_key(alias)} says the step began {_time(state.since)}, in the future; "
        "remove it, or set it right"
    )


def rollout_changes(plan: Plan) -> list[Change]:
    """The changes a rollout makes: version changes of aliases with a rollout, and aliases
    already on their new version whose rollout may have its end to finish (after hook)."""
    return [
        c
        for c in plan.changes
        if c.rollout is not None
        or (
            c.action is Action.NOOP
            and c.after is not None
            and c.after.rollout is not None
            and c.before is not None
        )
    ]


def started(change: Change) -> bool:
    """A rollout under way: the alias routes to its new version already."""
    before, after = change.before, change.after
    return (
        before is not None
        and after is not None
        and before.routing is not None
        and before.routing.version == after.version
    )


def under_way(plan: Plan) -> Plan:
    """Only the rollouts already under way (and those at 100 % with their end to finish): what a
    scheduled runner may move on without a new approval. Nothing else is applied."""
    kept = [
        c
        for c in rollout_changes(plan)
        if c.action is Action.NOOP or (c.rollout is not None and started(c))
    ]
    return replace(plan, changes=tuple(kept), unmanaged=(), missing_functions=())


def without_rollouts(plan: Plan) -> Plan:
    """The plan apply makes at once: everything but rollouts."""
    return replace(plan, changes=tuple(c for c in plan.changes if c.rollout is None))


def read_states(
    cloud: RolloutCloud, changes: Sequence[Change]
) -> dict[tuple[FunctionTarget, str], RolloutState | StateError | None]:
    """Each alias's recorded state: one ListTags per function."""
    targets = sorted({c.target for c in changes}, key=lambda t: t.address)
    tags = {t: cloud.tags(t) for t in targets}
    states: dict[tuple[FunctionTarget, str], RolloutState | StateError | None] = {}
    for change in changes:
        value = tags[change.target].get(tag_key(change.alias))
        if value is None:
            states[(change.target, change.alias)] = None
            continue
        try:
            states[(change.target, change.alias)] = RolloutState.from_tag(value)
        except StateError as exc:
            states[(change.target, change.alias)] = StateError(
                f"the tag {tag_key(change.alias)} cannot be read ({exc}); remove it, or set it "
                "right"
            )
    return states


def with_recorded(
    plan: Plan, cloud: RolloutCloud, hold: str
) -> tuple[Plan, list[tuple[Change, StateError]]]:
    """The plan with each rollout's recorded state (one ListTags per function) and ``hold``, so
    that it says what apply will do to them; and the rollouts whose tag cannot be read."""
    rollouts = [c for c in plan.changes if c.rollout is not None]
    routed = [c for c in plan.changes if c.may_end_a_rollout]
    # Aliases already on their rollout's version: one at 100 % whose end (the after hook, the
    # record's removal) is left is finished by apply, so the plan reads their record too.
    ending = [c for c in rollout_changes(plan) if c.action is Action.NOOP]
    if not rollouts and not routed and not ending:
        return plan, []
    with_rollouts = {c.target for c in rollouts}
    states = read_states(
        cloud, [*rollouts, *ending, *(c for c in routed if c.target in with_rollouts)]
    )
    for target in sorted({c.target for c in routed} - with_rollouts, key=lambda t: t.address):
        try:  # a function whose manifest names no rollout now: its role may not read tags
            states.update(read_states(cloud, [c for c in routed if c.target == target]))
        except AccessDeniedError:
            continue
    now = utc_now()
    for change in rollouts:  # refused by the plan as the runner refuses it
        state = states[(change.target, change.alias)]
        if isinstance(state, RolloutState) and in_the_future(state, now):
            states[(change.target, change.alias)] = StateError(future_words(change.alias, state))
    unreadable = [
        (c, state)
        for c in [*rollouts, *ending]
        if isinstance(state := states[(c.target, c.alias)], StateError)
    ]

    def recorded(change: Change) -> Change:
        state = states.get((change.target, change.alias), None)
        if state is None or isinstance(state, StateError):
            return change
        if change.rollout is None:  # held or not, apply finishes a rollout at 100 %
            return replace(change, recorded=state)
        return replace(change, recorded=state, hold=hold)

    return replace(plan, changes=tuple(recorded(c) for c in plan.changes)), unreadable


def forget_replaced(results: Sequence[Result], cloud: RolloutCloud) -> list[str]:
    """Remove the record of each rollout that an update made at once has ended (a revert in the
    manifest), so that starting it again later starts it over; why any could not be removed."""
    problems = []
    for result in results:
        change = result.change
        if change.replaces is None or result.outcome not in (Applied.UPDATED, Applied.UNCHANGED):
            continue
        try:
            cloud.untag(change.target, tag_key(change.alias))
        except ProviderError as exc:
            said = version_word(change.replaces.new, named=versions_named(change.target))
            problems.append(
                f"{change.address}: the record of the rollout it ended, the tag "
                f"{tag_key(change.alias)}, was not removed ({exc}); remove it, or a later "
                f"rollout to {said} stops as changed by someone else"
            )
    return problems


def drive(
    changes: Sequence[Change],
    provider: AliasWriter,
    cloud: RolloutCloud,
    *,
    wait: bool = True,
    stop: threading.Event | None = None,
    say: Callable[[Change, str, str], None] = lambda change, kind, line: None,
    clock: Clock = utc_now,
    hold: str = "",
    take_over: bool = True,
) -> list[RolloutResult]:
    """Move every rollout on, side by side: each to its end (``wait``), or by one due step;
    with ``hold``, none is moved on, but their alarms are watched and failures rolled back;
    without ``take_over``, only rollouts recorded in their tag are moved on (a scheduled runner
    starts nothing an approved apply did not)."""
    stop = stop or threading.Event()
    states = read_states(cloud, changes)
    lock = threading.Lock()
    board = AlarmBoard(cloud)
    for change in changes:  # so that the first read asks for them all at once
        if change.after is not None and change.after.rollout is not None:
            board.watch(change.target.region, change.after.rollout.alarms)

    def run(change: Change) -> RolloutResult:
        state = states[(change.target, change.alias)]
        if isinstance(state, StateError):
            return RolloutResult(change, Outcome.FAILED, str(state))

        def said(kind: str, line: str) -> None:
            with lock:
                say(change, kind, line)

        runner = Runner(
            change,
            state,
            provider,
            cloud,
            wait,
            stop,
            said,
            clock,
            hold,
            board,
            take_over=take_over,
        )
        return runner.run()

    if not changes:
        return []
    with ThreadPoolExecutor(len(changes), thread_name_prefix="rollout") as pool:
        return list(pool.map(run, changes))
