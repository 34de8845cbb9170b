"""SQL statements counted as an engine runs them (a SQLAlchemy event, no driver hook), in
all and per request (an N+1 query shows in its route's histogram)."""

from __future__ import annotations

import threading
import weakref
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from backendkit.metrics._labels import method_label, route_label

if TYPE_CHECKING:
    from backendkit.web import RequestCycle

__all__ = ["STATEMENT_BUCKETS", "SqlStatements"]

STATEMENT_BUCKETS = (0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0)
"""Bounds of the statements-per-request histogram: a request that runs dozens is an N+1."""

# The running request's count: a list, so the handler's threads and greenlets (which see a
# copy of the request's context) add to the same one.
_in_request: ContextVar[list[int] | None] = ContextVar("backendkit_sql_in_request", default=None)


class SqlStatements:
    """``backendkit_sql_statements_total{engine}``: statements each watched engine ran
    (``after_cursor_execute``; an ``executemany`` is one). Statements per request is
    ``rate(backendkit_sql_statements_total[5m]) / rate(backendkit_http_requests_total[5m])``
    on average, and ``backendkit_http_request_sql_statements{method,route}`` per request
    (requests of a kit with metrics, once an engine is watched).
    """

    __slots__ = ("_lock", "_watched", "counter", "per_request", "watching")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "backendkit_sql_statements",
            "SQL statements run, by engine.",
            ("engine",),
            registry=registry,
        )
        self.per_request = Histogram(
            "backendkit_http_request_sql_statements",
            "SQL statements each request ran on the watched engines, by route template.",
            ("method", "route"),
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        #: Whether an engine was ever watched: read on every request (a WeakSet's len is
        #: a Python-level call).
        self.watching = False
        self._lock = threading.Lock()

    def watch(self, engine: Any, name: str) -> None:
        """Count ``engine``'s statements as ``engine=name`` (once, however often watched)."""
        from sqlalchemy import event  # the sqlalchemy extra: only when an engine is watched

        target = getattr(engine, "sync_engine", engine)  # an AsyncEngine's events are its core's
        with self._lock:
            if target in self._watched:
                return
            self._watched.add(target)
            self.watching = True
        child = self.counter.labels(name)

        def counted(*_args: Any) -> None:
            child.inc()
            running = _in_request.get()
            if running is not None:
                running[0] += 1

        event.listen(target, "after_cursor_execute", counted)

    def request_started(self) -> None:
        """Count this request's statements from now (only once an engine is watched)."""
        if self.watching:
            _in_request.set([0])

    def request_finished(self, cycle: RequestCycle) -> None:
        """Observe how many statements the request ran."""
        running = _in_request.get()
        if running is not None:
            _in_request.set(None)
            labels = (method_label(cycle.method), route_label(cycle.route))
            self.per_request.labels(*labels).observe(running[0])

    def request_dropped(self) -> None:
        """Forget the request (the metrics and health routes are not counted)."""
        if _in_request.get() is not None:
            _in_request.set(None)
