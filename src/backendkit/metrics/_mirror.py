"""Multiprocess mode for the metrics read at scrape time (cache, Redis breaker, SQL pool).

A scrape under gunicorn reads the files every worker wrote; the cache's ``CacheStats``,
a breaker's state and a pool's counts live in each worker's memory, where no file is.
The mirror copies this process's values to files: every ``interval`` seconds from a
daemon thread, once more when the process exits, and before a scrape this process
answers. Each kind of value keeps its meaning across workers:

- cache counters (and the load-duration histogram's buckets, count and sum) are
  cumulative per process: ``sum`` keeps the last value of a worker
  that exited, so the total over every worker since the start adds up exactly (the
  directory is emptied at each start);
- pool gauges add up over the live workers (``livesum``);
- a breaker shows the worst live worker (``livemax``: open is 1, and ``failures`` the
  most consecutive failures any worker counted).

The requests in flight (``publish``, the request tally's) are written with them.

The thread starts with the first request a process serves, never in a process that only
forks workers (a thread there would be copied half-way into each of them). A process that
exits normally also removes its live gauges (its requests in flight, its pools and
breakers), which is all gunicorn's ``child_exit`` does and what ``uvicorn --workers``
otherwise never does.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Gauge, multiprocess

from backendkit.metrics._components import ComponentCollector

__all__ = ["MIRROR_INTERVAL", "Mirror"]

MIRROR_INTERVAL = 1.0
"""Seconds between two copies of a worker's component values to its files."""

# How each gauge family adds up over the workers; counters are "sum" (cumulative).
_MODES = {
    "backendkit_redis_breaker_state": "livemax",
    "backendkit_redis_breaker_failures": "livemax",
    "backendkit_sql_pool_checked_out": "livesum",
    "backendkit_sql_pool_overflow": "livesum",
    "backendkit_sql_pool_size": "livesum",
}


class Mirror:
    """Copies ``collector``'s values to multiprocess gauges of the same names, in ``directory``."""

    __slots__ = ("_collector", "_directory", "_gauges", "_interval", "_lock", "_publish", "running")

    def __init__(
        self,
        collector: ComponentCollector,
        directory: str,
        interval: float = MIRROR_INTERVAL,
        publish: Callable[[], None] | None = None,
    ) -> None:
        self._collector = collector
        self._publish = publish  # writes the requests in flight, with each copy
        self._directory = directory  # the PROMETHEUS_MULTIPROC_DIR the values are written to
        self._interval = interval
        self._gauges: dict[str, Gauge] = {}
        self._lock = threading.Lock()
        #: Whether this process's copying thread runs (a forked child's does not).
        self.running = False
        os.register_at_fork(after_in_child=self._forked)
        atexit.register(self.close)

    def close(self) -> None:
        """This process is ending (its kit closes, or the interpreter exits): write its
        values a last time and remove its live gauges, as gunicorn's ``child_exit`` does
        for a worker. ``uvicorn --workers`` has no such hook, and its workers end by
        re-raising SIGTERM, which skips ``atexit``; they close their kit at lifespan
        shutdown first."""
        self.stop()
        self.copy()
        multiprocess.mark_process_dead(os.getpid(), self._directory)  # type: ignore[no-untyped-call]

    def _forked(self) -> None:
        self.running = False  # threads do not survive a fork

    def start(self) -> None:
        """Start this process's copying thread, unless it runs already."""
        with self._lock:
            if self.running:
                return
            self.running = True
        thread = threading.Thread(target=self._run, name="bk-metrics-mirror", daemon=True)
        thread.start()

    def stop(self) -> None:
        """Let the copying thread end at its next wake-up."""
        self.running = False

    def _run(self) -> None:
        while self.running:
            time.sleep(self._interval)
            self.copy()

    def copy(self) -> None:
        """Write this process's current values now."""
        if self._publish is not None:
            self._publish()
        with self._lock:
            for family in self._collector.collect():
                cumulative = family.type in ("counter", "histogram")
                mode = _MODES.get(family.name, "sum" if cumulative else "livesum")
                for sample in family.samples:
                    gauge = self._gauge(sample.name, tuple(sample.labels), mode, family)
                    target = gauge.labels(**sample.labels) if sample.labels else gauge
                    target.set(sample.value)

    def _gauge(self, name: str, labels: tuple[str, ...], mode: Any, family: Any) -> Gauge:
        gauge = self._gauges.get(name)
        if gauge is None:
            # Unregistered: in multiprocess mode a value lives in its file, and the
            # scrape's MultiProcessCollector finds it there.
            gauge = self._gauges[name] = Gauge(
                name, family.documentation, labels, registry=None, multiprocess_mode=mode
            )
        return gauge
