"""Hit/miss counters and load durations, readable in code and logged on demand."""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, fields
from typing import Any

from backendkit.logging import get_logger

__all__ = ["LOAD_BUCKETS", "CacheStats", "StatsSnapshot"]

_log = get_logger("backendkit.cache")

LOAD_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds in seconds of the load-duration buckets (a last, unbounded one follows)."""


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Counter values at one moment.

    Attributes:
        hits: Calls answered from a fresh entry.
        misses: Calls that found no usable entry (absent, expired, invalidated, undecodable)
            or that refreshed one early.
        loads: Times the loader (the decorated function) ran.
        shared: Misses answered by another caller's load (same process or another one).
        stale_serves: Calls answered with a stale entry while another caller refreshed it.
        early_refreshes: Loads started before expiry (probabilistic early recomputation or
            a stale entry), so a hot key never expires for everyone at once.
        lock_waits: Times this process waited for another process's load.
        not_stored: Loaded values not stored (``None`` policy, ``condition``, size cap,
            a value that does not serialize as the declared type).
        errors: Backend failures plus entries that failed to encode or decode.
        degraded: Calls served without the backend because it was unavailable.
        timed_loads: Loads whose duration was recorded: every load except those run
            while the backend was unavailable (counted in ``loads`` and ``degraded``).
        load_seconds: Total seconds the timed loads took.
        load_buckets: Timed loads per duration bucket: ``load_buckets[i]`` counts those
            that took at most ``LOAD_BUCKETS[i]`` seconds and more than the bound before
            (not cumulative); the last item counts those above ``LOAD_BUCKETS[-1]``.
    """

    hits: int = 0
    misses: int = 0
    loads: int = 0
    shared: int = 0
    stale_serves: int = 0
    early_refreshes: int = 0
    lock_waits: int = 0
    not_stored: int = 0
    errors: int = 0
    degraded: int = 0
    timed_loads: int = 0
    load_seconds: float = 0.0
    load_buckets: tuple[int, ...] = (0,) * (len(LOAD_BUCKETS) + 1)

    @property
    def hit_ratio(self) -> float:
        """``hits / (hits + misses)``, or 0.0 before any call."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, int]:
        """The event counters as a plain dict (for logs, metrics exporters and tests).

        The load durations (``timed_loads``, ``load_seconds``, ``load_buckets``) are not in
        it: they are one histogram, not counters.
        """
        return {name: getattr(self, name) for name in _NAMES}


_DURATIONS = ("timed_loads", "load_seconds", "load_buckets")
_NAMES = tuple(f.name for f in fields(StatsSnapshot) if f.name not in _DURATIONS)


class CacheStats:
    """Thread-safe counters for one cache or one decorated function.

    A function's stats forward every count to its cache's stats (``parent``), so the cache
    totals every function that uses it.

    Example:
        >>> stats = CacheStats()
        >>> stats.incr("hits")
        >>> stats.snapshot().hits
        1
    """

    def __init__(self, name: str = "cache", *, parent: CacheStats | None = None) -> None:
        self.name = name
        self._parent = parent
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(_NAMES, 0)
        # This one and its ancestors, counted in one loop (every hit counts twice).
        self._chain: tuple[CacheStats, ...] = (self, *(parent._chain if parent else ()))
        self._load_seconds = 0.0
        self._load_buckets = [0] * (len(LOAD_BUCKETS) + 1)

    def incr(self, counter: str, amount: int = 1) -> None:
        """Add ``amount`` to ``counter`` (one of the `StatsSnapshot` field names)."""
        for stats in self._chain:
            with stats._lock:
                stats._counts[counter] += amount

    def record_load(self, seconds: float) -> None:
        """Count one load that took ``seconds`` (in ``loads`` and the load durations)."""
        bucket = bisect_left(LOAD_BUCKETS, seconds)  # a bound is inclusive, as Prometheus's le
        with self._lock:
            self._counts["loads"] += 1
            self._load_seconds += seconds
            self._load_buckets[bucket] += 1
        if self._parent is not None:
            self._parent.record_load(seconds)

    def snapshot(self) -> StatsSnapshot:
        """Return the current counter values."""
        with self._lock:
            return StatsSnapshot(
                **self._counts,
                timed_loads=sum(self._load_buckets),
                load_seconds=self._load_seconds,
                load_buckets=tuple(self._load_buckets),
            )

    def reset(self) -> None:
        """Set every counter back to zero (the parent's counters are not touched)."""
        with self._lock:
            self._counts = dict.fromkeys(_NAMES, 0)
            self._load_seconds = 0.0
            self._load_buckets = [0] * (len(LOAD_BUCKETS) + 1)

    def log(self, **fields: Any) -> StatsSnapshot:
        """Log the counters as one ``cache_stats`` event at INFO and return them.

        Args:
            **fields: Extra fields for the event (for example ``interval="1m"``).
        """
        snap = self.snapshot()
        _log.info(
            "cache_stats",
            cache=self.name,
            hit_ratio=round(snap.hit_ratio, 4),
            load_seconds=round(snap.load_seconds, 6),
            **snap.as_dict(),
            **fields,
        )
        return snap

    def __repr__(self) -> str:
        return f"CacheStats(name={self.name!r}, {self.snapshot().as_dict()!r})"
