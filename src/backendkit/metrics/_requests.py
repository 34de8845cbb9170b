"""The request instruments of multiprocess mode (count, duration, requests in flight), and
errors by code in both modes; a single process keeps the first three in ``RequestTally``.

The per-request path is one dict lookup and three value updates. Label children are kept
in a plain dict keyed by what the cycle holds (``labels()`` takes a lock and validates its
arguments on every call); a key with a non-standard method is never kept, so a client
sending made-up methods cannot grow it. What is kept is each child's values (the count,
the duration's sum and its buckets) and they are incremented directly: ``inc()`` and
``observe()`` check their argument and walk the bucket list on every call, where a
duration is never negative and its bucket is one bisection. The in-flight gauge is
written when it settles at zero and otherwise at most every ``IN_FLIGHT_INTERVAL``
seconds: under multiprocess mode
every write is a locked mmap update, and two per request (up, down) were a third of the
cost. At rest it is exact; under load it is at most that old.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from backendkit.metrics._labels import OTHER_METHOD, method_label, route_label, status_label

if TYPE_CHECKING:
    from backendkit.web import RequestCycle

__all__ = [
    "DEFAULT_BUCKETS",
    "IN_FLIGHT_INTERVAL",
    "ErrorCounts",
    "InFlight",
    "RequestInstruments",
]

DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Request-duration buckets (seconds): 5 ms to 10 s, finer under a second, where API
latency objectives live."""


IN_FLIGHT_INTERVAL = 0.05
"""Seconds a non-zero in-flight value may go unwritten (a zero is written at once)."""


class InFlight:
    """This process's requests in flight, kept in memory and written to ``gauge`` lazily."""

    __slots__ = ("_count", "_gauge", "_lock", "_next_write", "_written")

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge
        self._lock = threading.Lock()
        self._count = self._written = 0
        self._next_write = 0.0

    def add(self, delta: int) -> None:
        """Count ``delta`` more requests in flight (``-1`` when one ends)."""
        with self._lock:
            count = self._count = self._count + delta
            if count == self._written:
                return
            now = time.monotonic()
            if count == 0 or now >= self._next_write:
                self._gauge.set(count)
                self._written, self._next_write = count, now + IN_FLIGHT_INTERVAL


class ErrorCounts:
    """``backendkit_http_errors_total{route, code}``: the errors the pipeline rendered."""

    __slots__ = ("_children", "counter")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "backendkit_http_errors",
            "Error responses rendered, by route template and the catalogue's error code.",
            ("route", "code"),
            registry=registry,
        )
        self._children: dict[tuple[str | None, str], Counter] = {}

    def count(self, route: str | None, code: str) -> None:
        """Count one error of ``code`` on ``route`` (``None``: unmatched)."""
        child = self._children.get((route, code))
        if child is None:
            child = self._children.setdefault(
                (route, code), self.counter.labels(route_label(route), code)
            )
        child.inc()


class RequestInstruments:
    """The request metrics of one registry in multiprocess mode (values in files).

    Args:
        registry: where the metrics are registered.
        buckets: the duration histogram's upper bounds, in seconds.
    """

    __slots__ = ("_children", "_in_flight", "buckets", "duration", "in_progress", "requests")

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float]) -> None:
        self.buckets = tuple(float(bound) for bound in buckets)
        self.requests = Counter(
            "backendkit_http_requests",
            "HTTP requests finished, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "backendkit_http_request_duration_seconds",
            "Time from the request's first byte to its response, by method and route template.",
            ("method", "route"),
            registry=registry,
            buckets=self.buckets,
        )
        self.in_progress = Gauge(
            "backendkit_http_requests_in_progress",
            "HTTP requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.in_progress.set(0)  # a fresh process exposes its zero (a file, multiprocess)
        self._in_flight = InFlight(self.in_progress)
        # Per key: the count's value, the duration's sum and its buckets (prometheus-client's
        # value objects, the same in memory and in files).
        self._children: dict[tuple[str, str | None, int | None], tuple[Any, Any, list[Any]]] = {}

    def started(self) -> None:
        """One more request in flight."""
        self._in_flight.add(1)

    def dropped(self) -> None:
        """A request in flight is not counted after all."""
        self._in_flight.add(-1)

    def finished(self, cycle: RequestCycle) -> None:
        """Count ``cycle``'s request: its status and duration."""
        key = (cycle.method, cycle.route, cycle.status)
        children = self._children.get(key)
        if children is None:
            children = self._children_for(key)
        count, total, buckets = children
        elapsed = cycle.elapsed
        count.inc(1)
        total.inc(elapsed)
        # The first bound not below the duration (le is inclusive); past the last, +Inf's.
        buckets[bisect_left(self.buckets, elapsed)].inc(1)
        self._in_flight.add(-1)

    def _children_for(self, key: tuple[str, str | None, int | None]) -> tuple[Any, Any, list[Any]]:
        method, route = method_label(key[0]), route_label(key[1])
        count = self.requests.labels(method, route, status_label(key[2]))
        duration = self.duration.labels(method, route)
        children = (count._value, duration._sum, duration._buckets)
        if method != OTHER_METHOD:  # made-up methods are never kept: the client picks them
            self._children.setdefault(key, children)
        return children
