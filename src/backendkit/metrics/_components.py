"""Component metrics read at scrape time from the state the components already keep.

One collector per registry reads, when Prometheus scrapes: each watched cache's
``CacheStats`` (the cache's own counters: no second tally), each Redis connector's circuit
breaker, each SQLAlchemy engine's connection pool. Nothing is added to the components'
hot paths. Components are held weakly: a cache or engine that goes away leaves the output.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Iterator
from itertools import accumulate
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

__all__ = ["CACHE_COUNTERS", "CACHE_LOAD_DURATION", "ComponentCollector", "StatsSource"]

CACHE_COUNTERS: dict[str, tuple[str, str]] = {
    "hits": ("backendkit_cache_hits", "Cache reads answered from a fresh entry."),
    "misses": ("backendkit_cache_misses", "Cache reads that found no usable entry."),
    "loads": ("backendkit_cache_loads", "Times a cached function's loader ran."),
    "shared": ("backendkit_cache_shared_loads", "Misses answered by another caller's load."),
    "stale_serves": ("backendkit_cache_stale_served", "Reads answered with a stale entry."),
    "early_refreshes": ("backendkit_cache_early_refreshes", "Loads started before expiry."),
    "lock_waits": ("backendkit_cache_lock_waits", "Waits for another process's load."),
    "not_stored": ("backendkit_cache_not_stored", "Loaded values not stored."),
    "errors": ("backendkit_cache_errors", "Backend failures and undecodable entries."),
    "degraded": ("backendkit_cache_degraded", "Reads served without the unavailable backend."),
}
"""Each ``CacheStats`` counter: the metric it is exposed as (``_total`` added) and its help."""
CACHE_LOAD_DURATION = (
    "backendkit_cache_load_duration_seconds",
    "Seconds a cached function's loader took (loads while the backend was unavailable aside).",
)
"""The histogram of ``CacheStats``' load durations: its name and help."""
_BREAKER_STATES = ("closed", "half_open", "open")  # from best to worst


class StatsSource(Protocol):
    """What the collector reads of a ``CacheStats``: its name and a snapshot."""

    name: str

    def snapshot(self) -> Any:
        """The counters now (an object with ``as_dict()``)."""


class ComponentCollector(Collector):
    """Reads the watched caches, Redis connectors and SQL engines at each scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._caches: weakref.WeakSet[Any] = weakref.WeakSet()
        self._connectors: weakref.WeakSet[Any] = weakref.WeakSet()
        self._engines: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    def add_cache(self, stats: StatsSource) -> None:
        """Expose ``stats`` under its name (counters of caches of one name are summed)."""
        with self._lock:
            self._caches.add(stats)

    def add_connector(self, connector: Any) -> None:
        """Expose a Redis connector's breaker (a sync or async ``RedisConnector``)."""
        with self._lock:
            self._connectors.add(connector)

    def add_engine(self, engine: Any, name: str) -> None:
        """Expose a SQLAlchemy ``Engine``/``AsyncEngine``'s pool as ``engine=name``."""
        with self._lock:
            self._engines[engine] = name

    def describe(self) -> Iterator[Any]:
        """The metric names, so the registry refuses a second collector of them."""
        for name, doc in CACHE_COUNTERS.values():
            yield CounterMetricFamily(name, doc, labels=("cache",))
        yield HistogramMetricFamily(*CACHE_LOAD_DURATION, labels=("cache",))
        yield from self._redis_families()
        yield from self._pool_families()

    def collect(self) -> Iterator[Any]:
        """The values now."""
        with self._lock:
            caches, connectors = list(self._caches), list(self._connectors)
            engines = list(self._engines.items())
        yield from self._cache_metrics(caches)
        yield from self._redis_metrics(connectors)
        yield from self._pool_metrics(engines)

    @staticmethod
    def _cache_metrics(caches: list[Any]) -> Iterator[Any]:
        totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        durations: dict[str, tuple[list[int], float]] = {}
        for stats in caches:
            snapshot = stats.snapshot()
            for counter, value in snapshot.as_dict().items():
                totals[counter][stats.name] += value
            counts, seconds = durations.get(stats.name, ([0] * len(snapshot.load_buckets), 0.0))
            for index, count in enumerate(snapshot.load_buckets):
                counts[index] += count
            durations[stats.name] = (counts, seconds + snapshot.load_seconds)
        for counter, by_cache in totals.items():
            # A counter CacheStats gains later is exposed under its own name.
            name, doc = CACHE_COUNTERS.get(counter, (f"backendkit_cache_{counter}", counter))
            family = CounterMetricFamily(name, doc, labels=("cache",))
            for cache_name, value in sorted(by_cache.items()):
                family.add_metric((cache_name,), value)
            yield family
        if durations:
            yield ComponentCollector._load_durations(durations)

    @staticmethod
    def _load_durations(durations: dict[str, tuple[list[int], float]]) -> HistogramMetricFamily:
        # Imported here, not at the top: importing the metrics must not load the cache
        # package, and a cache is being read, so it is loaded already.
        from backendkit.cache import LOAD_BUCKETS

        family = HistogramMetricFamily(*CACHE_LOAD_DURATION, labels=("cache",))
        bounds = [*map(floatToGoString, LOAD_BUCKETS), "+Inf"]
        for cache_name, (counts, seconds) in sorted(durations.items()):
            cumulative = list(zip(bounds, accumulate(counts), strict=True))
            family.add_metric((cache_name,), cumulative, seconds)
        return family

    @staticmethod
    def _redis_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "backendkit_redis_breaker_state",
                "1 for the circuit breaker's current state (closed, open, half_open).",
                labels=("connector", "state"),
            ),
            GaugeMetricFamily(
                "backendkit_redis_breaker_failures",
                "Consecutive failed Redis calls counted by the breaker.",
                labels=("connector",),
            ),
        )

    def _redis_metrics(self, connectors: list[Any]) -> Iterator[Any]:
        if not connectors:
            return
        state, failures = self._redis_families()
        # The sync and async connectors of one kit share a name, not a breaker (an app
        # uses one of them): a name shows its worst breaker.
        worst: dict[str, tuple[int, int]] = {}
        for connector in connectors:
            breaker = connector.breaker
            rank = _BREAKER_STATES.index(breaker.state.value)
            seen = worst.get(connector.name, (0, 0))
            worst[connector.name] = (max(seen[0], rank), max(seen[1], breaker.failures))
        for name, (rank, count) in sorted(worst.items()):
            for index, value in enumerate(_BREAKER_STATES):
                state.add_metric((name, value), 1.0 if index == rank else 0.0)
            failures.add_metric((name,), float(count))
        yield state
        yield failures

    @staticmethod
    def _pool_families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "backendkit_sql_pool_checked_out",
                "Connections checked out of the pool now.",
                labels=("engine",),
            ),
            GaugeMetricFamily(
                "backendkit_sql_pool_overflow",
                "Connections open beyond the pool size now (negative: the pool is not full).",
                labels=("engine",),
            ),
            GaugeMetricFamily(
                "backendkit_sql_pool_size", "The pool's configured size.", labels=("engine",)
            ),
        )

    def _pool_metrics(self, engines: list[tuple[Any, str]]) -> Iterator[Any]:
        if not engines:
            return
        families = self._pool_families()
        for engine, name in engines:
            pool = getattr(engine, "sync_engine", engine).pool
            for family, reader in zip(families, ("checkedout", "overflow", "size"), strict=True):
                read = getattr(pool, reader, None)  # only QueuePool keeps these counts
                if callable(read):
                    family.add_metric((name,), float(read()))
        yield from families
