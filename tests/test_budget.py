"""Token buckets: the server's (answers at once) and the client's (waits its turn, slows down)."""

from __future__ import annotations

import pytest

from reconciler.budget import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_take_refills_at_its_rate_up_to_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(2.0, clock=clock)
    assert [bucket.take(), bucket.take()] == [0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)
    clock.now += 10  # idle time does not bank more than the burst
    assert [bucket.take(), bucket.take()] == [0.0, 0.0]
    assert bucket.take() > 0


def test_acquire_paces_callers_at_the_rate_never_faster() -> None:
    clock = Clock()
    bucket = TokenBucket(15.0, burst=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(31):
        bucket.acquire()
    assert clock.now == pytest.approx(30 / 15)  # the floor: one token, then one every 1/15 s


def test_slow_down_pauses_halves_and_recover_creeps_back() -> None:
    clock = Clock()
    bucket = TokenBucket(10.0, burst=1.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.slow_down(2.0)
    bucket.acquire()
    assert clock.now >= 2.0
    assert bucket.rate == 5.0
    for _ in range(100):
        bucket.recover()
    assert bucket.rate == 10.0


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0)
