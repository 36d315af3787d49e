"""A rollout's state as a tag on its function, ``reconciler:rollout:ALIAS``, so that any runner,
started anywhere, resumes it: which versions, which step, since when, and any failure.

The value is words a person can read in the console, in the characters both AWS and Huawei
Cloud allow in a tag value (FunctionGraph keeps it in a function tag the same way): ``from=12
to=13 step=2 since=2026-11-22T04:00:00Z weight=0.25`` (the weight held since then) and, after a
failure, ``failed=alarm why=payments-api-errors``. Pure: no network or clock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

TAG_PREFIX = "reconciler:rollout:"
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 255  # Lambda allows 256, FunctionGraph 255: the lesser fits both
FAILURES = ("alarm", "hook", "aborted")
_NOT_TAG_TEXT = re.compile(r"[^\w.:/=+\-@]")
# Lambda's versions are numbers; FunctionGraph's are names such as v3 or 1.0 (or latest).
_VERSION = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,41}", re.ASCII)
_WEIGHT = re.compile(r"0\.[0-9]{1,20}", re.ASCII)
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class StateError(ValueError):
    """A rollout tag that this version cannot read: changed by hand, or by a later version."""


def tag_key(alias: str) -> str:
    """The tag that holds ``alias``'s rollout; a name too long for a tag key is shortened with a
    digest of it, so two aliases never share one."""
    key = TAG_PREFIX + alias
    if len(key) <= TAG_KEY_MAX:
        return key
    digest = hashlib.sha256(alias.encode()).hexdigest()[:16]
    return f"{TAG_PREFIX}{alias[: TAG_KEY_MAX - len(TAG_PREFIX) - 17]}-{digest}"


@dataclass(frozen=True, slots=True)
class RolloutState:
    """``step`` is the step now live, from 1 (0: none yet, after a hook refused the start);
    ``since`` when it was written, so its bake ends at ``since`` + bake; after a failure, when
    it failed."""

    old: str
    new: str
    step: int
    since: datetime
    failed: str | None = None  # one of FAILURES while a failure stands
    why: str = ""  # the alarm or hook that failed, shortened to tag characters
    weight: float | None = None  # the weight held since ``since`` (absent in older tags)

    def failing(self, failed: str, why: str, at: datetime) -> RolloutState:
        """The failure recorded, ``since`` now its moment: the plan says when it happened."""
        return replace(self, failed=failed, why=_tag_text(why)[:80], since=at)

    def failure_words(self) -> str:
        """``alarm payments-api-p99 fired``, ``hook smoke failed``, ``aborted by hand``."""
        why = self.why.replace("_", " ") if self.failed == "aborted" else self.why
        if self.failed == "alarm":
            return f"alarm {why} fired" if why else "an alarm fired"
        if self.failed == "hook":
            return f"hook {why} failed" if why else "a hook failed"
        return f"{self.failed} {why}".strip()

    def to_tag(self) -> str:
        words = [
            f"from={self.old}",
            f"to={self.new}",
            f"step={self.step}",
            f"since={self.since.astimezone(UTC).strftime(_TIME)}",
        ]
        if self.weight is not None:
            words.append(f"weight={self.weight:.10f}".rstrip("0"))
        if self.failed:
            words.append(f"failed={self.failed}")
            if self.why:
                words.append(f"why={self.why}")
        value = " ".join(words)
        if len(value) > TAG_VALUE_MAX:
            raise StateError(f"versions {self.old} and {self.new} are too long for a tag value")
        return value

    @classmethod
    def from_tag(cls, value: str) -> RolloutState:
        """Read a tag written by ``to_tag``; ``StateError`` says what is wrong with it."""
        fields: dict[str, str] = {}
        for word in value.split():
            key, equals, text = word.partition("=")
            if not equals or key in fields:
                raise StateError(f"{word[:40]!r} is not a key=value word, or is there twice")
            fields[key] = text
        unknown = set(fields) - {"from", "to", "step", "since", "failed", "why", "weight"}
        if unknown:
            raise StateError(f"unknown words: {', '.join(sorted(unknown))}")
        try:
            old, new, step, since = fields["from"], fields["to"], fields["step"], fields["since"]
        except KeyError as exc:
            raise StateError(f"no {exc.args[0]}=") from None
        if not (_VERSION.fullmatch(old) and _VERSION.fullmatch(new)):
            raise StateError("from= and to= must be versions")
        if not step.isascii() or not step.isdigit() or len(step) > 3:
            raise StateError("step= must be a step number")
        try:
            when = datetime.strptime(since, _TIME).replace(tzinfo=UTC)
        except ValueError:
            raise StateError("since= must be a time such as 2026-11-22T04:00:00Z") from None
        failed = fields.get("failed")
        if failed is not None and failed not in FAILURES:
            raise StateError(f"failed= must be one of {', '.join(FAILURES)}")
        weight = None
        if "weight" in fields:
            if _WEIGHT.fullmatch(fields["weight"]) is None or not 0 < float(fields["weight"]) < 1:
                raise StateError("weight= must be a weight between 0 and 1")
            weight = float(fields["weight"])
        return cls(old, new, int(step), when, failed, fields.get("why", ""), weight)


def _tag_text(text: str) -> str:
    """``text`` in the characters a tag value allows, spaces too replaced (they split words)."""
    return _NOT_TAG_TEXT.sub("_", text)
