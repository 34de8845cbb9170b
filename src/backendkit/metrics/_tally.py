"""The request metrics of a single process, kept in one compact tally read at scrape time.

Three prometheus-client instruments per request (a counter, a histogram, a gauge up and
down) take four locks and a dozen method calls, whose objects a real app's request has
pushed out of the CPU caches by the time the next one comes: measured in an app, twice
what a tight loop shows. Here a request is one lock, one dict lookup and three list
updates; the counter, histogram and gauge families are built when Prometheus scrapes,
with the names, labels and buckets of ``RequestInstruments``, which multiprocess mode
keeps (its values must live in prometheus-client's files).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from backendkit.metrics._labels import OTHER_METHOD, method_label, route_label, status_label

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

Key = tuple[str, "str | None", "int | None"]


class RequestTally(Collector):
    """Counts, durations and requests in flight of one process, as a collector.

    Args:
        buckets: the duration histogram's upper bounds, in seconds.
    """

    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(float(bound) for bound in buckets)
        self._bounds = (*self.buckets, float("inf"))
        # The ``le`` label of each bound, as prometheus-client writes it (``1.0``, ``+Inf``).
        self._les = tuple(floatToGoString(bound) for bound in self._bounds)  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._in_flight = 0
        # label values -> [count, duration sum, one count per bucket (not cumulative)]
        self._series: dict[tuple[str, str, str], list[Any]] = {}
        self._keys: dict[Key, list[Any]] = {}  # what the cycle holds -> its series

    def started(self) -> None:
        """One more request in flight."""
        with self._lock:
            self._in_flight += 1

    def dropped(self) -> None:
        """A request in flight is not counted after all."""
        with self._lock:
            self._in_flight -= 1

    def finished(self, cycle: RequestCycle) -> None:
        """Count ``cycle``'s request: its status and duration."""
        elapsed = cycle.elapsed
        slot = bisect_left(self._bounds, elapsed) + 2
        key = (cycle.method, cycle.route, cycle.status)
        with self._lock:
            series = self._keys.get(key) or self._series_for(key)
            series[0] += 1
            series[1] += elapsed
            series[slot] += 1
            self._in_flight -= 1

    def _series_for(self, key: Key) -> list[Any]:
        # Under the lock. A made-up method's key is never kept: the client picks it.
        labels = (method_label(key[0]), route_label(key[1]), status_label(key[2]))
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = [0, 0.0] + [0] * len(self._bounds)
        if labels[0] != OTHER_METHOD:
            self._keys[key] = series
        return series

    def describe(self) -> Iterator[Any]:
        """The metric names, so the registry refuses a second collector of them."""
        yield CounterMetricFamily(*_REQUESTS, labels=("method", "route", "status"))
        yield HistogramMetricFamily(*_DURATION, labels=("method", "route"))
        yield GaugeMetricFamily(*_IN_PROGRESS)

    def collect(self) -> Iterator[Any]:
        """The values now: counts by status, durations by method and route."""
        with self._lock:
            snapshot = {labels: list(series) for labels, series in self._series.items()}
            in_flight = self._in_flight
        requests = CounterMetricFamily(*_REQUESTS, labels=("method", "route", "status"))
        durations: dict[tuple[str, str], list[Any]] = {}
        for labels, series in sorted(snapshot.items()):
            requests.add_metric(labels, series[0])
            merged = durations.setdefault(labels[:2], [0, 0.0] + [0] * len(self._bounds))
            for index, value in enumerate(series):
                merged[index] += value
        histogram = HistogramMetricFamily(*_DURATION, labels=("method", "route"))
        for pair, series in durations.items():
            cumulative, buckets = 0, []
            for bound, count in zip(self._les, series[2:], strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            histogram.add_metric(pair, buckets, series[1])
        yield requests
        yield histogram
        yield GaugeMetricFamily(*_IN_PROGRESS, value=in_flight)
