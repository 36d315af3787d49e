"""Request budgets: token buckets, used by the client to stay within AWS's quotas and by the sandbox
to enforce them.

AWS gives each account and Region 15 control-plane requests per second, shared by ListAliases,
GetAlias, Create/Update/DeleteAlias and the rest; GetFunction has its own 100 per second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CONTROL_PLANE_RATE = 15.0
GET_FUNCTION_RATE = 100.0
_EPSILON = 1e-9


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst``.

    ``take`` never waits (a server answers at once); ``acquire`` waits its turn (a client paces
    itself). ``slow_down`` is how a client hears the server's "too many requests".
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"a rate must be positive, not {rate}")
        self.rate = self.max_rate = rate
        self.burst = rate if burst is None else burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> float:
        """Take a token now: 0.0 if there was one, else the seconds until there will be."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            if now < self._paused_until:
                return self._paused_until - now
            if self._tokens >= 1.0 - _EPSILON:  # refills are float sums: 0.9999999 is a token
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def acquire(self) -> None:
        """Wait for a token and take it; concurrent callers are served in turn, never faster."""
        while True:
            wait = self.take()
            if wait <= 0.0:
                return
            self._sleep(wait)

    def slow_down(self, retry_after: float) -> None:
        """The server throttled us: pause for ``retry_after`` seconds and halve the pace."""
        with self._lock:
            now = self._clock()
            self._paused_until = max(self._paused_until, now + retry_after)
            self.rate = max(self.max_rate / 16, self.rate / 2)
            self._tokens = min(self._tokens, 0.0)

    def recover(self) -> None:
        """A call went through: creep back towards the full pace."""
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate * 1.05)
