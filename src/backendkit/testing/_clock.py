"""A clock that tests move by hand."""

from __future__ import annotations

import threading

__all__ = ["FakeClock"]


class FakeClock:
    """A settable [`Clock`][backendkit.clock.Clock] for tests: time moves only when told to.

    Hand it to any component that takes ``clock=`` and move time instead of sleeping.
    ``now()`` starts at ``start`` (epoch seconds); ``monotonic()`` starts at an arbitrary
    fixed reading and never goes backwards. The clock is thread-safe, so concurrent tests
    may share it.

    Example:
        >>> clock = FakeClock(start=1_000.0)
        >>> clock.advance(30)
        >>> clock.now()
        1030.0
        >>> clock.set(2_000.0)
        >>> clock.now()
        2000.0
    """

    # A non-zero origin so code that treats 0.0 as "never" behaves as with a real clock.
    _MONOTONIC_ORIGIN = 10_000.0

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._lock = threading.Lock()
        self._now = float(start)
        self._monotonic = self._MONOTONIC_ORIGIN

    def now(self) -> float:
        """Return the current fake wall-clock time in seconds since the epoch."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Return the current fake monotonic reading in seconds."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: both ``now()`` and ``monotonic()`` move forward.

        Raises:
            ValueError: ``seconds`` is negative (time does not run backwards; use
                [`set`][backendkit.testing.FakeClock.set] to step the wall clock back).
        """
        if seconds < 0:
            raise ValueError("FakeClock.advance() takes a non-negative number of seconds")
        with self._lock:
            self._now += seconds
            self._monotonic += seconds

    def set(self, epoch_seconds: float) -> None:
        """Set the wall clock to ``epoch_seconds``.

        Moving forward counts as time passing, so ``monotonic()`` moves by the same amount
        (cooldowns and TTLs elapse as they would in real life). Moving backward models a
        wall-clock step (NTP, a manual change): ``now()`` goes back, ``monotonic()`` does
        not move, exactly as on a real machine.
        """
        with self._lock:
            delta = float(epoch_seconds) - self._now
            self._now = float(epoch_seconds)
            if delta > 0:
                self._monotonic += delta

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, monotonic={self._monotonic!r})"
