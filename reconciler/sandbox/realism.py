"""Switchable realism: quotas, latency, faults, out-of-band writers, and call accounting.

Everything here can be changed while the server runs, from Python or from the admin endpoint.
"""

from __future__ import annotations

import fnmatch
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.budget import CONTROL_PLANE_RATE, GET_FUNCTION_RATE, TokenBucket

# AWS's numbers, per account and Region: GetFunction and GetPolicy have their own budgets, every
# other control-plane call shares one.
AWS_QUOTAS: dict[str, float] = {
    "GetFunction": GET_FUNCTION_RATE,
    "GetPolicy": CONTROL_PLANE_RATE,
    "*": CONTROL_PLANE_RATE,
}

PROVISIONED_READY_SECONDS = 0.5  # IN_PROGRESS, then READY: short, as tests wait for it

LAMBDA_DATA_PLANE = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})


def is_read(operation: str) -> bool:
    """Reads by name, whatever the service: ``GetAlias``, ``sts:GetCallerIdentity``."""
    return operation.rpartition(":")[2].startswith(("Get", "List", "Describe", "Show"))


class FaultKind(str, Enum):
    """What a fault does to a call."""

    ERROR = "error"  # 500 ServiceException; nothing happens
    RESET = "reset"  # the connection is reset; nothing happens
    THROTTLE = "throttle"  # 429 TooManyRequestsException; nothing happens
    CONFLICT = "conflict"  # 409 ResourceConflictException: another operation is in progress
    COMMIT_THEN_ERROR = "commit-then-error"  # the call takes effect, the client gets a 500
    COMMIT_THEN_RESET = "commit-then-reset"  # the call takes effect, the connection is reset

    @property
    def commits(self) -> bool:
        return self in (FaultKind.COMMIT_THEN_ERROR, FaultKind.COMMIT_THEN_RESET)


@dataclass
class FaultRule:
    """Fail calls whose operation matches ``operation`` (a glob): the next ``count`` of them, or
    each with probability ``rate``."""

    kind: FaultKind
    operation: str = "*"
    count: int | None = 1
    rate: float = 0.0

    def matches(self, operation: str) -> bool:
        return fnmatch.fnmatchcase(operation, self.operation)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        return cls(
            kind=FaultKind(data["kind"]),
            operation=str(data.get("operation", "*")),
            count=data.get("count", None if "rate" in data else 1),
            rate=float(data.get("rate", 0.0)),
        )


@dataclass
class OutOfBandWrite:
    """After the next call matching ``after`` completes, change an alias as another writer would."""

    after: str
    function: str
    alias: str
    changes: dict[str, Any]
    region: str | None = None


@dataclass
class Stats:
    """Calls seen by the sandbox, by operation; faults and throttles among them."""

    calls: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    in_flight: Counter[str] = field(default_factory=Counter)
    # The most calls of each operation answered at once: shows a client's concurrency.
    peak_in_flight: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        reads = sum(n for op, n in self.calls.items() if is_read(op))
        return {
            "calls": dict(sorted(self.calls.items())),
            "reads": reads,
            "writes": sum(self.calls.values()) - reads,
            "total": sum(self.calls.values()),
            "throttled": dict(sorted(self.throttled.items())),
            "faults": dict(sorted(self.faults.items())),
            "peak_in_flight": dict(sorted(self.peak_in_flight.items())),
        }


@dataclass(frozen=True)
class InvokeResult:
    """What Invoke answers for a function: its payload (JSON), and FunctionError if it failed."""

    payload: Any = None
    function_error: str | None = None
    delay_seconds: float = 0.0  # how long the function "runs" before answering

    def to_dict(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "function_error": self.function_error,
            "delay_seconds": self.delay_seconds,
        }

    @classmethod
    def hook(cls, answer: str, delay_seconds: float = 0.0) -> InvokeResult:
        """A validator's answer, as CodeDeploy-style hooks give it: ``succeed`` answers
        {"status": "Succeeded"}, ``fail`` {"status": "Failed"}, ``error`` is a function error."""
        if answer not in HOOK_ANSWERS:
            raise ValueError(f"a hook answers one of {', '.join(HOOK_ANSWERS)}, not {answer!r}")
        if not math.isfinite(delay_seconds) or delay_seconds < 0:
            raise ValueError(f"a hook's delay is a number of seconds, not {delay_seconds!r}")
        if answer == "error":
            payload = {"errorMessage": "hook failed", "errorType": "Exception"}
            return cls(payload, "Unhandled", delay_seconds)
        status = "Succeeded" if answer == "succeed" else "Failed"
        return cls({"status": status}, None, delay_seconds)


HOOK_ANSWERS = ("succeed", "fail", "error")


class Realism:
    """The switches of one sandbox server, safe to change from any thread."""

    def __init__(self, seed: int = 0) -> None:
        self.clock: Callable[[], float] = time.monotonic  # what the quota buckets count time by
        self.sleep: Callable[[float], None] = time.sleep  # how a call's latency passes
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.stats = Stats()
        self.quotas: dict[str, float] = {}
        self.latency_ms = 0.0
        self.faults: list[FaultRule] = []
        self.out_of_band: list[OutOfBandWrite] = []
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        # A new provisioned concurrency configuration is IN_PROGRESS this long, then READY.
        self.provisioned_ready_seconds = PROVISIONED_READY_SECONDS
        # Not documented by AWS either way: refuse weighted routing on an alias that has
        # provisioned concurrency (400), or accept it (the default).
        self.refuse_weighted_provisioned = False
        # What Invoke answers, by (function name, qualifier or None): the sandbox runs no code.
        self.invoke_results: dict[tuple[str, str | None], InvokeResult] = {}

    def set_invoke_result(self, function: str, qualifier: str | None, result: InvokeResult) -> None:
        with self._lock:
            self.invoke_results[(function, qualifier)] = result

    def invoke_result(
        self, function: str, qualifiers: tuple[str | None, ...]
    ) -> InvokeResult | None:
        """The first answer set for the function under one of ``qualifiers``, in that order."""
        with self._lock:
            for qualifier in qualifiers:
                if (function, qualifier) in self.invoke_results:
                    return self.invoke_results[(function, qualifier)]
        return None

    def reset(self) -> None:
        with self._lock:
            self.clock = time.monotonic
            self.sleep = time.sleep
            self.stats = Stats()
            self.quotas = {}
            self.latency_ms = 0.0
            self.faults = []
            self.out_of_band = []
            self._buckets = {}
            self.provisioned_ready_seconds = PROVISIONED_READY_SECONDS
            self.refuse_weighted_provisioned = False
            self.invoke_results = {}

    def reset_stats(self) -> None:
        with self._lock:
            self.stats = Stats()

    def set_quotas(self, quotas: Mapping[str, float] | None) -> None:
        """Rates per operation (``"*"``: every other control-plane call); None switches them off."""
        with self._lock:
            self.quotas = dict(quotas or {})
            self._buckets = {}

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply an admin document: quotas ("aws", a mapping, or null), latency_ms, faults."""
        if "quotas" in data:
            quotas = data["quotas"]
            self.set_quotas(AWS_QUOTAS if quotas == "aws" else quotas)
        if "latency_ms" in data:
            self.latency_ms = float(data["latency_ms"])
        if "faults" in data:
            rules = [FaultRule.from_dict(rule) for rule in data["faults"]]
            with self._lock:
                self.faults = rules
        if "provisioned_ready_seconds" in data:
            self.provisioned_ready_seconds = float(data["provisioned_ready_seconds"])
        if "refuse_weighted_provisioned" in data:
            self.refuse_weighted_provisioned = bool(data["refuse_weighted_provisioned"])
        for answer in data.get("invoke", []):
            result = InvokeResult(
                answer.get("payload"),
                answer.get("function_error"),
                float(answer.get("delay_seconds", 0.0)),
            )
            self.set_invoke_result(str(answer["function"]), answer.get("qualifier"), result)
        for hook in data.get("hooks", []):
            result = InvokeResult.hook(str(hook["answer"]), float(hook.get("delay_seconds", 0.0)))
            self.set_invoke_result(str(hook["function"]), hook.get("qualifier"), result)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "quotas": dict(self.quotas),
                "latency_ms": self.latency_ms,
                "faults": [
                    {
                        "kind": r.kind.value,
                        "operation": r.operation,
                        "count": r.count,
                        "rate": r.rate,
                    }
                    for r in self.faults
                ],
                "out_of_band": len(self.out_of_band),
                "provisioned_ready_seconds": self.provisioned_ready_seconds,
                "refuse_weighted_provisioned": self.refuse_weighted_provisioned,
                "invoke": [
                    {"function": f, "qualifier": q, **r.to_dict()}
                    for (f, q), r in self.invoke_results.items()
                ],
            }

    def add_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self.faults.append(rule)

    def add_out_of_band(self, write: OutOfBandWrite) -> None:
        with self._lock:
            self.out_of_band.append(write)

    # -- the request path ----------------------------------------------------------------------

    def count(self, operation: str) -> None:
        with self._lock:
            self.stats.calls[operation] += 1

    @contextmanager
    def in_flight(self, operation: str) -> Iterator[None]:
        with self._lock:
            stats = self.stats
            stats.in_flight[operation] += 1
            stats.peak_in_flight[operation] = max(
                stats.peak_in_flight[operation], stats.in_flight[operation]
            )
        try:
            yield
        finally:
            with self._lock:
                stats.in_flight[operation] -= 1

    def throttle(self, account: str, region: str, operation: str) -> float:
        """0.0 if the call may go ahead, else the seconds until the caller's budget refills."""
        if operation in LAMBDA_DATA_PLANE:
            return 0.0
        with self._lock:
            name = operation if operation in self.quotas else "*"
            rate = self.quotas.get(name)
            if rate is None:
                return 0.0
            key = (account, region, name)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate, clock=self.clock)
        wait = bucket.take()
        if wait:
            with self._lock:
                self.stats.throttled[operation] += 1
        return wait

    def fault_for(self, operation: str) -> FaultKind | None:
        """The fault this call meets, if any; a counted rule is used up by the calls it fails."""
        with self._lock:
            for rule in self.faults:
                if not rule.matches(operation):
                    continue
                if rule.count is not None:
                    if rule.count <= 0:
                        continue
                    rule.count -= 1
                elif self._random.random() >= rule.rate:
                    continue
                self.stats.faults[f"{operation}:{rule.kind.value}"] += 1
                return rule.kind
            return None

    def pop_out_of_band(self, operation: str) -> list[OutOfBandWrite]:
        with self._lock:
            due = [w for w in self.out_of_band if fnmatch.fnmatchcase(operation, w.after)]
            self.out_of_band = [w for w in self.out_of_band if w not in due]
            return due

    def sleep_latency(self) -> None:
        if self.latency_ms > 0:
            self.sleep(self.latency_ms / 1000.0)


def retry_after_seconds(wait: float) -> int:
    """The whole seconds a throttled caller is told to wait, as the service's header has them."""
    return max(1, math.ceil(wait))
