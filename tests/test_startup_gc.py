"""The console script's start-up runs with the cyclic collector paused, then frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reconciler import _gc


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    _gc.started()
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_runs_again_once_started_with_the_start_up_heap_frozen() -> None:
    gc.enable()
    _gc.pause_startup()
    assert not gc.isenabled()
    built = [[i] for i in range(1_000)]
    frozen_before = gc.get_freeze_count()
    _gc.started()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(built)


def test_started_leaves_a_collector_it_did_not_pause_alone() -> None:
    gc.disable()
    _gc.pause_startup()  # already off: not this module's to turn on again
    _gc.started()
    assert not gc.isenabled()
    gc.enable()
    _gc.started()
    assert gc.isenabled()
