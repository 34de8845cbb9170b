"""The request instruments: count, duration and in-flight requests, and errors by code.

Label children are kept in plain dicts keyed by their label values: ``labels()`` takes a
lock and validates its arguments on every call, which would be most of the per-request
cost; a dict lookup is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from backendkit.metrics._labels import method_label, route_label, status_label

if TYPE_CHECKING:
    from backendkit.web import RequestCycle

__all__ = ["DEFAULT_BUCKETS", "RequestInstruments"]

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


class RequestInstruments:
    """The four request metrics of one registry, and what each request adds to them.

    Args:
        registry: where the metrics are registered.
        buckets: the duration histogram's upper bounds, in seconds.
    """

    __slots__ = (
        "_counts",
        "_durations",
        "_errors",
        "buckets",
        "duration",
        "errors",
        "in_progress",
        "requests",
    )

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
        self.errors = Counter(
            "backendkit_http_errors",
            "Error responses rendered, by route template and the catalogue's error code.",
            ("route", "code"),
            registry=registry,
        )
        self._counts: dict[tuple[str, str, str], Counter] = {}
        self._durations: dict[tuple[str, str], Histogram] = {}
        self._errors: dict[tuple[str, str], Counter] = {}

    def started(self) -> None:
        """One more request in flight."""
        self.in_progress.inc()

    def dropped(self) -> None:
        """A request in flight is not counted after all."""
        self.in_progress.dec()

    def finished(self, cycle: RequestCycle) -> None:
        """Count ``cycle``'s request: its status, duration and error code."""
        method, route = method_label(cycle.method), route_label(cycle.route)
        key = (method, route, status_label(cycle.status))
        count = self._counts.get(key)
        if count is None:
            count = self._counts.setdefault(key, self.requests.labels(*key))
        count.inc()
        pair = (method, route)
        duration = self._durations.get(pair)
        if duration is None:
            duration = self._durations.setdefault(pair, self.duration.labels(*pair))
        duration.observe(cycle.elapsed)
        code = cycle.error_code
        if code is not None:
            error_key = (route, code)
            error = self._errors.get(error_key)
            if error is None:
                error = self._errors.setdefault(error_key, self.errors.labels(*error_key))
            error.inc()
        self.in_progress.dec()
