"""Pause Python's cyclic garbage collector while building large acyclic data.

Loading 100,000 aliases allocates millions of dicts, lists and tuples; the collector would walk
every one of them again and again (a third of the time). They hold no reference cycles, so
reference counting frees them all the same.

Start-up is the same case: importing typer, pydantic, boto3, moto and the Huawei Cloud SDK and
loading botocore's models builds a heap of about a million objects that lives as long as the
process, and the collector walked it over and over while it grew (a seventh of `plan --sandbox`).
The console script pauses the collector from the start (``pause_startup``); once the command has
what it keeps (``started``), that heap is frozen, never to be walked again, and the collector
runs as usual for what follows: an apply that waits out a rollout for hours collects its garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


_startup = {"paused": False}


def pause_startup() -> None:
    """Pause the collector until ``started``: for the console script, not for library use."""
    if gc.isenabled():
        gc.disable()
        _startup["paused"] = True


def started() -> None:
    """Start-up is over: freeze what it built and let the collector run again, if
    ``pause_startup`` paused it (otherwise nothing: a program that embeds the CLI keeps its
    collector as it set it)."""
    if _startup["paused"]:
        _startup["paused"] = False
        gc.freeze()
        gc.enable()


@contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def without_cyclic_gc(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the cyclic collector paused (and restored after, however it ends)."""

    @wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused():
            return function(*args, **kwargs)

    return run
