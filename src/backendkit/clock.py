"""One clock for every time-dependent component.

Tokens and the token store, the rate limiter, the cache, the Redis connectors and their
circuit breaker, the repository (its timestamps) and the web kit (request durations) take a
[`Clock`][backendkit.clock.Clock], so tests move time instead of sleeping
(see [`backendkit.testing.FakeClock`][backendkit.testing.FakeClock]).
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "system_clock"]


@runtime_checkable
class Clock(Protocol):
    """The time source a component reads."""

    def now(self) -> float:
        """Wall-clock time in seconds since the epoch (for token claims and TTLs)."""
        ...

    def monotonic(self) -> float:
        """A monotonic reading in seconds (for timeouts, cooldowns and durations)."""
        ...


class SystemClock:
    """The real clock: ``time.time()`` and ``time.monotonic()``."""

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()

    def monotonic(self) -> float:
        """Return ``time.monotonic()``."""
        return time.monotonic()


#: The shared default clock.
system_clock: Clock = SystemClock()
