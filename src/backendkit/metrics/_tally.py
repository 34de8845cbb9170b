"""The request metrics (count, duration, requests in flight) as one compact tally, in a
single process and in multiprocess mode alike.

Three prometheus-client instruments per request (a counter, a histogram, a gauge up and
down) take four locks and a dozen method calls, whose objects a real app's request has
pushed out of the CPU caches by the time the next one comes; in multiprocess mode each
of their updates is also a locked, pid-checked write to a file. Here a request is one
lock, one dict lookup and three updates of doubles at known indices: in arrays in a
single process (the counter, histogram and gauge families built when Prometheus
scrapes), in this process's files in multiprocess mode (see ``_values``), where the
scrape's ``MultiProcessCollector`` reads them with every worker's and adds them up.

The in-flight gauge of multiprocess mode is prometheus-client's (a ``livesum`` gauge must
live in its ``gauge_livesum_<pid>.db``, which ``mark_process_dead`` removes). It is not
written by each request (two locked file writes, up and down, would cost as much as the
rest of the request's metrics): the mirror publishes it with the component values (once
a second, and before a scrape this process answers), and the request that brings it back
to zero writes the zero at once. At rest it is exact; under load at most a second old.
"""

from __future__ import annotations

import os
import weakref
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from prometheus_client import Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.mmap_dict import mmap_key
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from backendkit.metrics._labels import OTHER_METHOD, method_label, route_label, status_label
from backendkit.metrics._values import FileValues, MemoryValues, file_values

if TYPE_CHECKING:
    from backendkit.web import RequestCycle

__all__ = ["RequestTally"]

_REQUESTS = (
    "backendkit_http_requests",
    "HTTP requests finished, by method, route template and status.",
)
_DURATION = (
    "backendkit_http_request_duration_seconds",
    "Time from the request's first byte to its response, by method and route template.",
)
_IN_PROGRESS = ("backendkit_http_requests_in_progress", "HTTP requests being served now.")
_COUNT_LABELS = ("method", "route", "status")
_DURATION_LABELS = ("method", "route")

Key = tuple[str, "str | None", "int | None"]
#: A series' indices: its count, its duration's sum, and one per bucket (not cumulative).
Series = tuple[int, int, tuple[int, ...]]


class RequestTally(Collector):
    """Counts, durations and requests in flight of one process, as a collector.

    Args:
        buckets: the duration histogram's upper bounds, in seconds.
        directory: multiprocess mode's ``PROMETHEUS_MULTIPROC_DIR`` (the values go to this
            process's files there), or ``None`` in a single process.
    """

    def __init__(self, buckets: Sequence[float], directory: str | None = None) -> None:
        self.buckets = tuple(float(bound) for bound in buckets)
        self._bounds = (*self.buckets, float("inf"))
        # The ``le`` label of each bound, as prometheus-client writes it (``1.0``, ``+Inf``).
        self._les = tuple(floatToGoString(bound) for bound in self._bounds)  # type: ignore[no-untyped-call]
        self._directory = directory
        self._gauge: Gauge | None = None
        if directory is not None:
            # Unregistered: the scrape reads it from its file; this collector describes it.
            self._gauge = Gauge(*_IN_PROGRESS, registry=None, multiprocess_mode="livesum")
            self._gauge.set(0)  # a fresh process exposes its zero
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: _forget(ref))
        self._start()

    def _start(self) -> None:
        # Also in a forked child: the parent's counts and files stay the parent's.
        self._values: MemoryValues | FileValues = (
            MemoryValues() if self._directory is None else file_values(self._directory)
        )
        self._in_flight = 0
        self._published = 0  # the in-flight gauge's value (multiprocess mode)
        self._counts: dict[tuple[str, str, str], int] = {}  # label values -> count index
        self._durations: dict[tuple[str, str], tuple[int, tuple[int, ...]]] = {}
        self._keys: dict[Key, Series] = {}  # what the cycle holds -> its series

    # The per-request methods take the lock with acquire() and release(): a with block
    # calls __enter__ and __exit__ through slower lookups (2,000 instructions a request).

    def started(self) -> None:
        """One more request in flight."""
        lock = self._values.lock
        lock.acquire()
        self._in_flight += 1
        lock.release()

    def dropped(self) -> None:
        """A request in flight is not counted after all."""
        lock = self._values.lock
        lock.acquire()
        try:
            self._in_flight -= 1
            if self._published and not self._in_flight:
                self._publish()
        finally:
            lock.release()

    def finished(self, cycle: RequestCycle) -> None:
        """Count ``cycle``'s request: its status and duration."""
        elapsed = cycle.elapsed
        slot = bisect_left(self._bounds, elapsed)  # le is inclusive; past the last, +Inf
        key = (cycle.method, cycle.route, cycle.status)
        values = self._values
        lock = values.lock
        lock.acquire()
        try:
            series = self._keys.get(key) or self._series_for(key)
            values.counted[series[0]] += 1.0
            timed = values.timed
            timed[series[1]] += elapsed
            timed[series[2][slot]] += 1.0
            self._in_flight -= 1
            if self._published and not self._in_flight:  # back to rest: exact at once
                self._publish()
        finally:
            lock.release()

    def publish(self) -> None:
        """Write the requests in flight to the gauge's file (multiprocess mode; the mirror
        calls it)."""
        with self._values.lock:
            self._publish()

    def _publish(self) -> None:
        # Under the lock.
        if self._gauge is not None and self._in_flight != self._published:
            self._gauge.set(self._in_flight)
            self._published = self._in_flight

    def _series_for(self, key: Key) -> Series:
        # Under the lock. A made-up method's key is never kept: the client picks it.
        labels = (method_label(key[0]), route_label(key[1]), status_label(key[2]))
        values = self._values
        count = self._counts.get(labels)
        if count is None:
            name = _REQUESTS[0]
            entry = mmap_key(name, f"{name}_total", list(_COUNT_LABELS), list(labels), _REQUESTS[1])
            count = self._counts[labels] = values.count_index(entry)
        pair = labels[:2]
        duration = self._durations.get(pair)
        if duration is None:
            duration = self._durations[pair] = self._duration_indices(pair)
        series = (count, *duration)
        if labels[0] != OTHER_METHOD:
            self._keys[key] = series
        return series

    def _duration_indices(self, pair: tuple[str, str]) -> tuple[int, tuple[int, ...]]:
        name, documentation = _DURATION
        labels = list(_DURATION_LABELS)
        total = self._values.timing_index(
            mmap_key(name, f"{name}_sum", labels, list(pair), documentation)
        )
        buckets = tuple(
            self._values.timing_index(
                mmap_key(name, f"{name}_bucket", [*labels, "le"], [*pair, le], documentation)
            )
            for le in self._les
        )
        return total, buckets

    def describe(self) -> Iterator[Any]:
        """The metric names, so the registry refuses a second collector of them."""
        yield CounterMetricFamily(*_REQUESTS, labels=_COUNT_LABELS)
        yield HistogramMetricFamily(*_DURATION, labels=_DURATION_LABELS)
        yield GaugeMetricFamily(*_IN_PROGRESS)

    def collect(self) -> Iterator[Any]:
        """This process's values now: counts by status, durations by method and route."""
        values = self._values
        with values.lock:
            counted, timed = values.counted, values.timed
            counts = [(labels, counted[index]) for labels, index in self._counts.items()]
            durations = [
                (pair, timed[total], [timed[index] for index in buckets])
                for pair, (total, buckets) in self._durations.items()
            ]
            in_flight = self._in_flight
        requests = CounterMetricFamily(*_REQUESTS, labels=_COUNT_LABELS)
        for labels, value in sorted(counts):
            requests.add_metric(labels, value)
        histogram = HistogramMetricFamily(*_DURATION, labels=_DURATION_LABELS)
        for pair, total, buckets in sorted(durations):
            histogram.add_metric(
                pair, list(zip(self._les, accumulate(buckets), strict=True)), total
            )
        yield requests
        yield histogram
        yield GaugeMetricFamily(*_IN_PROGRESS, value=in_flight)


def _forget(ref: weakref.ReferenceType[RequestTally]) -> None:
    tally = ref()
    if tally is not None:
        tally._start()  # the tally's own reset, after a fork
