"""Apply a plan with guarded writes; never re-plans, never rolls back, reports every outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum

from reconciler import functiongraph as fg
from reconciler.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
)
from reconciler.live import LiveAlias
from reconciler.plan import Action, Change, Plan, plan_problems
from reconciler.providers.base import AliasWriter


class Outcome(str, Enum):
    """What happened to one alias: "alias payments-api:live was ..."."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    STALE = "stale"  # changed by someone else since the plan; refused, left as it is
    FAILED = "failed"  # the service refused or could not be reached
    SKIPPED = "skipped"  # not attempted: the apply was interrupted first


@dataclass(frozen=True, slots=True)
class Result:
    change: Change
    outcome: Outcome
    revision_after: str | None = None
    message: str = ""

    @property
    def revision_before(self) -> str | None:
        return None if self.change.before is None else self.change.before.revision_id


@dataclass(frozen=True, slots=True)
class ApplyReport:
    results: tuple[Result, ...]
    interrupted: bool = False

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def summary(self) -> str:
        shown = [
            f"{self.count(o)} {o.value}"
            for o in Outcome
            if o is not Outcome.SKIPPED or self.count(o)
        ]
        return "Apply: " + ", ".join(shown) + "."


def apply(
    plan: Plan,
    provider: AliasWriter,
    *,
    workers: int = 1,
    should_stop: Callable[[], bool] = lambda: False,
    on_result: Callable[[Result], None] = lambda result: None,
) -> ApplyReport:
    """Make each change of ``plan``, guarded by the RevisionId it was planned against.

    Up to ``workers`` changes are made at once (the provider paces its calls to its budget): a
    plan holds at most one change per alias, so no two writes touch one alias. Once
    ``should_stop`` says so, changes not yet started are skipped and those in flight finish.
    ``on_result`` hears each outcome as it lands; the report keeps the plan's order.

    A plan that holds anything apply must not make (see ``plan_problems``) is refused whole,
    before any write."""
    problems = plan_problems(plan)
    problems += [
        f"{c.address}: a rollout, made step by step by reconciler.rollout, never in one write"
        for c in plan.changes
        if c.rollout is not None
    ]
    if problems:
        raise InputError("the plan cannot be applied; nothing was changed:", details=problems)
    stopped = threading.Event()
    lock = threading.Lock()  # on_result hears one outcome at a time

    def make(change: Change) -> Result:
        if change.action is not Action.NOOP and (stopped.is_set() or should_stop()):
            stopped.set()
            result = Result(change, Outcome.SKIPPED, message="not attempted: interrupted")
        else:
            result = _apply_one(change, provider)
        with lock:
            on_result(result)
        return result

    # FunctionGraph keeps at most 10 aliases a function, and preflight counts them as the plan
    # leaves them: its deletes are made (all of them, before anything else) so that a create
    # never meets the cap that a delete of the same plan would have made room for.
    first = [
        i
        for i, c in enumerate(plan.changes)
        if c.action is Action.DELETE and c.target.provider == fg.PROVIDER
    ]
    rest = sorted(set(range(len(plan.changes))) - set(first))
    done: dict[int, Result] = {}
    for phase in (first, rest):
        made = _run(make, [plan.changes[i] for i in phase], workers, stopped)
        done.update(zip(phase, made, strict=True))
    results = tuple(done[i] for i in range(len(plan.changes)))  # in the plan's order
    return ApplyReport(results, stopped.is_set())


def _run(
    make: Callable[[Change], Result],
    changes: list[Change],
    workers: int,
    stopped: threading.Event,
) -> list[Result]:
    """Make ``changes``, up to ``workers`` at once; their results in their order."""
    if workers <= 1 or len(changes) <= 1:
        return [make(change) for change in changes]
    pool = ThreadPoolExecutor(workers, thread_name_prefix="writer")
    try:
        futures = [pool.submit(make, change) for change in changes]
        results = [future.result() for future in futures]
    except BaseException:  # a second Ctrl-C: start nothing more, let the calls in flight end
        stopped.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _apply_one(change: Change, provider: AliasWriter) -> Result:
    result = _attempt(change, provider)
    if (
        change.target.provider == fg.PROVIDER
        and change.action in (Action.UPDATE, Action.DELETE)
        and result.outcome in (Outcome.UPDATED, Outcome.DELETED)
    ):  # FunctionGraph has no RevisionId: the guard was a read just before the write
        note = f"{result.message}; {fg.GUARD_NOTE}" if result.message else fg.GUARD_NOTE
        return replace(result, message=note)
    return result


def _attempt(change: Change, provider: AliasWriter) -> Result:
    try:
        if change.action is Action.CREATE:
            return _create(change, provider)
        if change.action is Action.UPDATE:
            return _update(change, provider)
        if change.action is Action.DELETE:
            return _delete(change, provider)
        return Result(
            change, Outcome.UNCHANGED, change.before.revision_id if change.before else None
        )
    except ProviderError as exc:
        return _after_failure(change, provider, exc)


_LANDED = "the service answered with an error, but the alias is as planned"
_GONE = "the service answered with an error, but the alias is gone, as planned"


def _after_failure(change: Change, provider: AliasWriter, error: ProviderError) -> Result:
    """A write whose answer was an error may still have landed: read the alias back, and count
    the change done when it is as planned; otherwise it failed, with the service's error."""
    try:
        current = provider.get_alias(change.target, change.alias)
    except ProviderError:
        return Result(change, Outcome.FAILED, message=str(error))
    if change.action is Action.DELETE and current is None:
        return Result(
            change, Outcome.DELETED, message=_LANDED.replace("alias is", "alias is gone,")
        )
    if change.after is not None and current is not None and current.satisfies(change.after):
        done = Outcome.CREATED if change.action is Action.CREATE else Outcome.UPDATED
        return Result(change, done, current.revision_id, _LANDED)
    return Result(change, Outcome.FAILED, message=str(error))


# The asserts below narrow types only: plan_problems has refused every other shape before any write.


def _create(change: Change, provider: AliasWriter) -> Result:
    assert change.after is not None
    try:
        created = provider.create_alias(change.target, change.after)
    except ConflictError as exc:
        current = provider.get_alias(change.target, change.alias)
        if current is None:
            # 409 also means "another operation is in progress": nobody made this alias.
            return Result(change, Outcome.FAILED, message=f"{exc}; the alias does not exist")
        return _settle(
            change,
            current,
            Outcome.CREATED if exc.retried else None,
            "it was created by someone else since the plan",
        )
    return Result(change, Outcome.CREATED, created.revision_id)


def _update(change: Change, provider: AliasWriter) -> Result:
    assert change.after is not None
    assert change.before is not None
    try:
        updated = provider.update_alias(change.target, change.after, change.before.revision_id)
    except PreconditionFailedError as exc:
        return _settle(
            change,
            provider.get_alias(change.target, change.alias),
            Outcome.UPDATED if exc.retried else None,
            "it was changed by someone else since the plan",
        )
    except NotFoundError:
        if provider.get_alias(change.target, change.alias) is None:
            return Result(
                change, Outcome.STALE, message="it was deleted by someone else since the plan"
            )
        raise
    return Result(change, Outcome.UPDATED, updated.revision_id)


def _delete(change: Change, provider: AliasWriter) -> Result:
    assert change.before is not None
    # DeleteAlias takes no RevisionId: read just before deleting. A change landing between this
    # read and the delete is not detected; that window is as small as one round trip.
    current = provider.get_alias(change.target, change.alias)
    if current is None:
        return Result(change, Outcome.UNCHANGED, message="already gone: nothing deleted")
    if current.revision_id != change.before.revision_id:
        return _stale(change, current, "it was changed by someone else since the plan")
    provider.delete_alias(change.target, change.alias)
    return Result(change, Outcome.DELETED)


def _settle(
    change: Change, current: LiveAlias | None, done: Outcome | None, conflict: str
) -> Result:
    """After a 409 or 412, ``current`` read again. Live as planned is success: ``done`` when the
    call was retried (its first attempt was made, and the retry met its success), else unchanged
    (made before this apply: by an earlier one, or by hand)."""
    assert change.after is not None
    if current is not None and current.satisfies(change.after):
        if done is None:
            return Result(
                change,
                Outcome.UNCHANGED,
                current.revision_id,
                "already as planned: nothing written",
            )
        return Result(change, done, current.revision_id, "already in the desired state")
    if current is None:
        return Result(
            change, Outcome.STALE, message="it was deleted by someone else since the plan"
        )
    return _stale(change, current, conflict)


def _stale(change: Change, current: LiveAlias, why: str) -> Result:
    return Result(
        change,
        Outcome.STALE,
        current.revision_id,
        f"{why} ({_moved(change.before, current)}); left as it is. Plan again to see it.",
    )


def _moved(before: LiveAlias | None, current: LiveAlias) -> str:
    """What is different now from what was planned against, in a few words."""
    if before is None:
        return f"now on version {current.version}"
    moved = []
    if before.version != current.version:
        moved.append(f"version {before.version} -> {current.version}")
    if before.description != current.description:
        moved.append("description changed")
    if before.routing != current.routing:
        moved.append("routing changed")
    return ", ".join(moved) or "a new RevisionId, no field changed"
