"""Request metrics shared by both modes: the duration buckets and errors by code
(``RequestTally`` keeps the rest).

An error is counted through a plain dict of label children keyed by what the cycle holds
(``labels()`` takes a lock and validates its arguments on every call).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from backendkit.metrics._labels import route_label

__all__ = ["DEFAULT_BUCKETS", "ErrorCounts"]

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
