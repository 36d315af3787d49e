"""A rollout as data: its steps, bake, gates; how it is shown, saved and checked.

Pure: no network, clock or environment. The manifest's model (``reconciler.rollout.spec``) becomes
a ``Rollout``; the saved plan carries one; the engine follows one.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

STEP_MIN, STEP_MAX = 1, 99  # percent on the new version; 100 is implied last
BAKE_MAX_SECONDS = 24 * 3600
ALARM_NAME_MAX = 255  # CloudWatch's limit on AlarmName
MAX_ALARMS = 100  # DescribeAlarms reads at most 100 names in one call
DURATION_PATTERN = r"[1-9][0-9]{0,5}[smh]"
DURATION_RE = re.compile(DURATION_PATTERN, re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> int:
    """Seconds in ``10s``, ``5m`` or ``1h``; ``ValueError`` says how to write one."""
    if not isinstance(text, str) or DURATION_RE.fullmatch(text) is None:
        raise ValueError(
            f"a duration is a whole number and a unit, s, m or h (30s, 10m, 1h), not {text!r}"
        )
    return int(text[:-1]) * _UNITS[text[-1]]


def duration_text(seconds: int) -> str:
    """``1h30m``, ``10m``, ``45s``: the shortest exact spelling."""
    if seconds <= 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts)


def version_word(version: str, *, named: bool = False) -> str:
    """A version as rollout messages say it: Lambda's 13 as v13. FunctionGraph's versions
    (``named``) are names, said exactly as apply writes them: "3" and "v3" are two versions.
    Without the cloud known, a name (v4, 1.0) is said as it is, never vv4."""
    return version if named or not version.isdigit() else f"v{version}"


def linear_steps(increment: int) -> tuple[int, ...]:
    """``linear: 10`` is 10, 20, ... 90: every multiple below 100."""
    return tuple(range(increment, 100, increment))


def steps_problem(steps: tuple[int, ...]) -> str | None:
    """Why ``steps`` are not a rollout's steps, or None."""
    if not steps:
        return "steps must list at least one percentage (100 is implied last)"
    for step in steps:
        if isinstance(step, bool) or not isinstance(step, int):
            return f"each step is a whole percentage from {STEP_MIN} to {STEP_MAX}, not {step!r}"
        if not STEP_MIN <= step <= STEP_MAX:
            return (
                f"each step is a whole percentage from {STEP_MIN} to {STEP_MAX} (100 is implied "
                f"last), not {step}"
            )
    for before, after in itertools.pairwise(steps):
        if after <= before:
            return f"steps must go up: {after} follows {before}"
    return None


@dataclass(frozen=True, slots=True)
class Rollout:
    """How an alias moves to a new version: weight ``steps`` (percent), each held ``bake``
    seconds while ``alarms`` are watched; ``before``/``after`` hook functions validate it."""

    steps: tuple[int, ...]
    bake: int
    alarms: tuple[str, ...] = ()
    before: str | None = None
    after: str | None = None

    @property
    def weights(self) -> tuple[float, ...]:
        """The routing weight of each step, as UpdateAlias sends it."""
        return tuple(step / 100 for step in self.steps)

    @property
    def hooks(self) -> tuple[str, ...]:
        return tuple(h for h in (self.before, self.after) if h)

    @property
    def duration(self) -> int:
        """Seconds from the first step to 100 %, if no gate fails: one bake per step."""
        return self.bake * len(self.steps)

    def path(self) -> str:
        """``5% -> 25% -> 50% -> 100%``."""
        return " -> ".join(f"{s}%" for s in (*self.steps, 100))

    def gates(self) -> str:
        """``gated on 2 alarms and a before hook``, or ``with no gate``."""
        parts = []
        if self.alarms:
            n = len(self.alarms)
            parts.append(f"{n} alarm{'s' * (n != 1)}")
        if self.before and self.after:
            parts.append("before and after hooks")
        elif self.before:
            parts.append("a before hook")
        elif self.after:
            parts.append("an after hook")
        return f"gated on {' and '.join(parts)}" if parts else "with no alarm or hook"

    def describe(self, old: str, new: str) -> str:
        """``12 -> 13 via 5% -> 25% -> 50% -> 100%, 10m each, gated on 2 alarms (about 30m)``."""
        return (
            f"{old} -> {new} via {self.path()}, {duration_text(self.bake)} each, "
            f"{self.gates()} (about {duration_text(self.duration)})"
        )

    def problems(self) -> list[str]:
        """Why this rollout cannot be followed (a saved plan is checked again with this)."""
        found = []
        problem = steps_problem(self.steps)
        if problem:
            found.append(problem)
        if isinstance(self.bake, bool) or not isinstance(self.bake, int):
            found.append("the bake is not a number of seconds")
        elif not 1 <= self.bake <= BAKE_MAX_SECONDS:
            found.append(f"the bake must be from 1s to {duration_text(BAKE_MAX_SECONDS)}")
        if len(self.alarms) > MAX_ALARMS:
            found.append(f"at most {MAX_ALARMS} alarms")
        if len(set(self.alarms)) != len(self.alarms):
            found.append("an alarm is listed twice")
        found.extend(
            f"alarm name {name[:40]!r} is not 1 to {ALARM_NAME_MAX} characters"
            for name in self.alarms
            if not 1 <= len(name) <= ALARM_NAME_MAX
        )
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": list(self.steps),
            "bake_seconds": self.bake,
            "alarms": list(self.alarms),
            "hooks": {"before": self.before, "after": self.after},
        }
