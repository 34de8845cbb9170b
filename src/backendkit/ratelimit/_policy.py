"""What a limiter does when its storage fails: the failure policies.

* ``fail_open`` (default): allow the request. An outage of the limiter's storage should
  not become an outage of the service; the gap is logged.
* ``fail_closed``: deny it (429 with ``Retry-After``). For limits that guard something
  costlier than downtime: password guessing, SMS sending, paid upstream calls.
* ``local_fallback``: count in this process's memory until storage answers again. Limits
  then hold per process instead of globally (N workers let up to N times the limit
  through), which is usually the right middle ground.

The storage call is never retried: a script that timed out may already have counted.
"""

from __future__ import annotations

import threading
from typing import Literal

from backendkit.clock import Clock
from backendkit.logging import get_logger

__all__ = ["FAILURE_POLICIES", "FailurePolicy", "WarnOnce"]

#: What to do when the storage is unreachable, hung, or fails.
FailurePolicy = Literal["fail_open", "fail_closed", "local_fallback"]

#: Every failure policy, the default first.
FAILURE_POLICIES: tuple[FailurePolicy, ...] = ("fail_open", "fail_closed", "local_fallback")

_log = get_logger("backendkit.ratelimit")


class WarnOnce:
    """Logs ``ratelimit_degraded`` at most once per ``interval`` seconds (thread-safe).

    The connector already warns about the outage itself; this says what the limiter did
    about it, without one log line per request.
    """

    def __init__(self, clock: Clock, interval: float = 30.0) -> None:
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._next_at: float | None = None
        self._held = 0

    def __call__(self, policy: FailurePolicy, rule: str, exc: BaseException) -> None:
        """Record one degraded decision; log it unless one was logged recently."""
        with self._lock:
            now = self._clock.monotonic()
            if self._next_at is not None and now < self._next_at:
                self._held += 1
                return
            self._next_at = now + self._interval
            held, self._held = self._held, 0
        _log.warning(
            "ratelimit_degraded",
            policy=policy,
            rule=rule,
            error=type(exc).__name__,
            suppressed=held,
        )
