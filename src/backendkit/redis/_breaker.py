"""The circuit breaker of the Redis connection layer: stop calling a dead server for a cooldown.

Each [`RedisConnector`][backendkit.redis.RedisConnector] (and async twin) owns one; it
needs nothing from redis-py, but lives here beside the only code that uses it.
"""

from __future__ import annotations

import threading
from enum import Enum

from backendkit.clock import Clock, system_clock

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(str, Enum):
    """Where a [`CircuitBreaker`][backendkit.redis.CircuitBreaker] stands."""

    CLOSED = "closed"
    """Calls go through; failures are being counted."""
    OPEN = "open"
    """Calls fail fast until the cooldown has passed."""
    HALF_OPEN = "half_open"
    """The cooldown has passed: one trial call may go through."""


class CircuitBreaker:
    """Counts consecutive failures and fails fast for a cooldown once too many happen.

    When ``threshold`` failures happen in a row it *opens*:
    [`allow()`][backendkit.redis.CircuitBreaker.allow] returns ``False`` and the caller
    fails fast without touching the network. Once ``cooldown`` seconds have passed (read
    from the injected [`Clock`][backendkit.clock.Clock]'s monotonic time) the breaker is
    *half-open*: the next ``allow()`` lets one trial call through. A success closes it; a
    failure opens it again for another cooldown. While a trial is in flight, other callers
    keep failing fast; if a trial's outcome is never reported, another trial is allowed one
    cooldown later, so a lost result cannot wedge the breaker.

    ```
    closed --threshold failures--> open --cooldown--> half_open --success--> closed
                                     ^                    |
                                     +------failure-------+
    ```

    Thread-safe; the async connectors use it too (every method is short and never awaits).

    Args:
        threshold: consecutive failures that open the breaker (at least 1).
        cooldown: seconds the breaker stays open before a trial call (positive).
        clock: time source; only ``clock.monotonic()`` is read.

    Raises:
        ValueError: ``threshold`` < 1 or ``cooldown`` <= 0.

    Example:
        >>> from backendkit.testing import FakeClock
        >>> clock = FakeClock()
        >>> breaker = CircuitBreaker(threshold=1, cooldown=5.0, clock=clock)
        >>> breaker.record_failure()
        True
        >>> breaker.allow()
        False
        >>> clock.advance(5.0)
        >>> breaker.allow()
        True
        >>> breaker.record_success()
        True
        >>> breaker.state
        <BreakerState.CLOSED: 'closed'>
    """

    def __init__(
        self, threshold: int = 1, cooldown: float = 5.0, clock: Clock = system_clock
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        if not cooldown > 0:
            raise ValueError("cooldown must be a positive number of seconds")
        self.threshold = threshold
        self.cooldown = float(cooldown)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open = False
        # Monotonic time at which the next trial call may go through (meaningful when open).
        self._retry_at = 0.0

    @property
    def state(self) -> BreakerState:
        """The current state (``half_open`` once an open breaker's cooldown has passed)."""
        with self._lock:
            return self._state_locked()

    @property
    def failures(self) -> int:
        """Consecutive failures recorded since the last success."""
        with self._lock:
            return self._failures

    def _state_locked(self) -> BreakerState:
        if not self._open:
            return BreakerState.CLOSED
        if self._clock.monotonic() >= self._retry_at:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Return whether a call may go out now.

        ``True`` while closed. While open, ``False`` until the cooldown has passed; then
        ``True`` once (the trial call), after which callers get ``False`` again until the
        trial reports back or another cooldown has passed.
        """
        if not self._open:
            # Lock-free while closed (every call asks): a call racing the opening is one
            # that started a moment before it, which the breaker lets through anyway.
            return True
        with self._lock:
            if not self._open:
                return True
            now = self._clock.monotonic()
            if now >= self._retry_at:
                # Re-arm before letting the trial through, so concurrent callers fail fast.
                self._retry_at = now + self.cooldown
                return True
            return False

    def record_success(self) -> bool:
        """Report a successful call: the breaker closes and the failure count resets.

        Returns:
            ``True`` when this success closed an open breaker (the moment to log a
            recovery), ``False`` when it was already closed.
        """
        if not self._open and not self._failures:
            # Nothing to reset (the common case, on every call): no lock. A failure racing
            # this check is ordered after this success.
            return False
        with self._lock:
            was_open = self._open
            self._failures = 0
            self._open = False
            return was_open

    def record_failure(self) -> bool:
        """Report a failed call.

        Returns:
            ``True`` when this failure opened a closed breaker (the moment to log an
            outage); ``False`` otherwise, including when a failed trial re-opens it.
        """
        with self._lock:
            self._failures += 1
            self._retry_at = self._clock.monotonic() + self.cooldown
            if self._open:
                return False
            if self._failures >= self.threshold:
                self._open = True
                return True
            return False

    @property
    def retry_after(self) -> float:
        """Seconds until a call may be tried again: what a ``503``'s ``Retry-After`` says.

        The rest of the cooldown while open (at least a small fraction of a second);
        one whole cooldown otherwise (a failure just happened, or is about to be
        reported, and the next one would open the breaker).
        """
        with self._lock:
            if not self._open:
                return self.cooldown
            return max(0.001, self._retry_at - self._clock.monotonic())

    def reset(self) -> None:
        """Close the breaker and forget past failures (for tests and manual recovery)."""
        with self._lock:
            self._failures = 0
            self._open = False

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(state={self.state.value!r}, failures={self.failures}, "
            f"threshold={self.threshold}, cooldown={self.cooldown})"
        )
