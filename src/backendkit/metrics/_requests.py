"""Request metrics shared by both modes: the duration buckets and errors by code
(``RequestTally`` keeps the rest)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from backendkit.metrics._counter import CounterTally
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
    """``backendkit_http_errors_total{route, code}``: the errors the pipeline rendered.

    Args:
        registry: where the counter is registered.
        directory: multiprocess mode's directory (``None``: a single process).
    """

    __slots__ = ("counter",)

    def __init__(self, registry: CollectorRegistry, directory: str | None = None) -> None:
        self.counter = CounterTally(
            "backendkit_http_errors",
            "Error responses rendered, by route template and the catalogue's error code.",
            ("route", "code"),
            directory,
        )
        registry.register(self.counter)

    def count(self, route: str | None, code: str) -> None:
        """Count one error of ``code`` on ``route`` (``None``: unmatched)."""
        self.counter.inc((route_label(route), code))
