"""Hit/miss counters, readable in code and logged on demand."""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from typing import Any

from backendkit.logging import get_logger

__all__ = ["CacheStats", "StatsSnapshot"]

_log = get_logger("backendkit.cache")


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

    @property
    def hit_ratio(self) -> float:
        """``hits / (hits + misses)``, or 0.0 before any call."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict (for logs, metrics exporters and tests)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_NAMES = tuple(f.name for f in fields(StatsSnapshot))


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

    def incr(self, counter: str, amount: int = 1) -> None:
        """Add ``amount`` to ``counter`` (one of the `StatsSnapshot` field names)."""
        with self._lock:
            self._counts[counter] += amount
        if self._parent is not None:
            self._parent.incr(counter, amount)

    def snapshot(self) -> StatsSnapshot:
        """Return the current counter values."""
        with self._lock:
            return StatsSnapshot(**self._counts)

    def reset(self) -> None:
        """Set every counter back to zero (the parent's counters are not touched)."""
        with self._lock:
            self._counts = dict.fromkeys(_NAMES, 0)

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
            **snap.as_dict(),
            **fields,
        )
        return snap

    def __repr__(self) -> str:
        return f"CacheStats(name={self.name!r}, {self.snapshot().as_dict()!r})"
