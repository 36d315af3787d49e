"""Where a rollout stands, from the live alias and its recorded state: a pure table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.live import LiveAlias, Route, RouteRule
from reconciler.rollout.engine import Phase, position
from reconciler.rollout.model import Rollout
from reconciler.rollout.state import RolloutState, StateError, tag_key

R = Rollout((10, 50), 60)
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


def live(version: str, to: str | None = None, weight: float = 0.0) -> LiveAlias:
    return LiveAlias("live", version, "", None if to is None else Route(to, weight), "r")


def state(step: int, failed: str | None = None, old: str = "12") -> RolloutState:
    return RolloutState(old, "13", step, T0, failed)


@pytest.mark.parametrize(
    ("alias", "recorded", "phase", "step", "since"),
    [
        (live("12"), None, Phase.NOT_STARTED, 0, None),
        (live("12", "11", 0.2), None, Phase.NOT_STARTED, 0, None),  # others' routing: replaced
        (live("12", "13", 0.1), state(1), Phase.BAKING, 1, T0),
        (live("12", "13", 0.5), state(1), Phase.BAKING, 2, None),  # written, not yet recorded
        (live("12", "13", 0.1), None, Phase.BAKING, 1, None),  # no record: a full bake from now
        (live("12", "13", 0.5), state(2), Phase.BAKING, 2, T0),
        (live("12", "13", 0.1), state(2), Phase.STALE, 0, None),  # gone back: not ours
        (live("12", "13", 0.3), state(1), Phase.STALE, 0, None),  # not a step
        (live("12", "13", 0.3), None, Phase.BAKING, 1, None),  # a canary by hand: held, adopted
        (live("12", "13", 0.05), None, Phase.BAKING, 0, None),  # below the first: held too
        # Header rules (FunctionGraph) route no share: nothing under way, the first step is next.
        (
            LiveAlias("live", "12", "", Route("13", 0.0, (RouteRule("x-canary", "=", "y"),)), "r"),
            None,
            Phase.NOT_STARTED,
            0,
            None,
        ),
        (live("12", "13", 0.7), None, Phase.BAKING, 2, None),  # above the last: promoted next
        (live("12", "13", 0.3), RolloutState("12", "13", 1, T0, weight=0.3), Phase.BAKING, 1, T0),
        (live("12", "13", 0.2), RolloutState("12", "13", 1, T0, weight=0.3), Phase.STALE, 0, None),
        (live("12", "13", 0.5), RolloutState("12", "13", 1, T0, weight=0.3), Phase.BAKING, 2, None),
        (live("12", "13", 0.1), RolloutState("12", "13", 1, T0, weight=0.3), Phase.STALE, 0, None),
        # The step is the live weight's place among the steps, whatever step the tag names: a
        # tag rewritten to name a later step moves on from the live weight, skipping none.
        (live("12", "13", 0.1), RolloutState("12", "13", 2, T0, weight=0.1), Phase.BAKING, 1, T0),
        (live("12", "13", 0.3), RolloutState("12", "13", 2, T0, weight=0.3), Phase.BAKING, 1, T0),
        (live("12", "13", 0.7), RolloutState("12", "13", 1, T0, weight=0.7), Phase.BAKING, 2, T0),
        (live("12", "13", 0.7), RolloutState("12", "13", 2, T0, weight=0.7), Phase.BAKING, 2, T0),
        # Steps changed in the manifest mid-rollout (recorded at 10 % of [10, 50]): held where it
        # is, below, between or on the new steps, then on to the next step above it.
        (live("12", "13", 0.1), RolloutState("12", "13", 1, T0, weight=0.1), Phase.BAKING, 1, T0),
        (live("12", "13", 0.05), RolloutState("12", "13", 1, T0, weight=0.05), Phase.BAKING, 0, T0),
        (live("12", "13", 0.3), RolloutState("12", "13", 1, T0, weight=0.1), Phase.STALE, 0, None),
        (live("12", "13", 0.05), RolloutState("12", "13", 1, T0, weight=0.1), Phase.STALE, 0, None),
        (live("12"), state(1), Phase.STALE, 0, None),  # routing removed by someone
        (live("11", "13", 0.1), state(1), Phase.STALE, 0, None),  # primary moved
        (live("13"), state(3), Phase.AT_FULL, 0, None),
        (live("13"), None, Phase.DONE, 0, None),
        (live("13", "12", 0.1), None, Phase.STALE, 0, None),
        (live("12"), state(1, "alarm"), Phase.FAILED, 0, None),
        (live("12", "13", 0.1), state(1, "alarm"), Phase.ROLLBACK_PENDING, 0, None),
        (live("14"), state(1, "alarm"), Phase.STALE, 0, None),
        (live("13"), state(1, "aborted"), Phase.DONE, 0, None),
        (live("12"), RolloutState("12", "14", 1, T0, "alarm"), Phase.NOT_STARTED, 0, None),
    ],
)
def test_position(
    alias: LiveAlias,
    recorded: RolloutState | None,
    phase: Phase,
    step: int,
    since: datetime | None,
) -> None:
    where = position(R, "13", alias, recorded)
    assert (where.phase, where.step, where.since) == (phase, step, since)


def test_the_tag_round_trips_and_is_read_strictly() -> None:
    failing = state(2).failing("alarm", "p99 > 1s (errors)", T0)
    value = failing.to_tag()
    assert (
        value
        == "from=12 to=13 step=2 since=2026-11-22T04:00:00Z failed=alarm why=p99___1s__errors_"
    )
    assert RolloutState.from_tag(value) == failing
    held = RolloutState("12", "13", 1, T0, weight=1e-05)
    assert held.to_tag().endswith(" weight=0.00001")
    assert RolloutState.from_tag(held.to_tag()) == held
    for bad in (
        "",
        "from=12",
        "from=12 to=13 step=x since=2026-11-22T04:00:00Z",
        "a b",
        "from=12 to=13 step=1 since=2026-11-22T04:00:00Z weight=1.5",
        "from=12 to=13 step=1 since=2026-11-22T04:00:00Z weight=1e-05",
    ):
        with pytest.raises(StateError):
            RolloutState.from_tag(bad)


def test_a_long_alias_name_still_makes_a_tag_key() -> None:
    assert tag_key("live") == "reconciler:rollout:live"
    long_a, long_b = "a" * 120 + "x", "a" * 120 + "y"
    assert len(tag_key(long_a)) <= 128
    assert tag_key(long_a) != tag_key(long_b)
