"""SQL statements counted as an engine runs them (a SQLAlchemy event, no driver hook)."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter

__all__ = ["SqlStatements"]


class SqlStatements:
    """``backendkit_sql_statements_total{engine}``: statements each watched engine ran
    (``after_cursor_execute``; an ``executemany`` is one). Statements per request is
    ``rate(backendkit_sql_statements_total[5m]) / rate(backendkit_http_requests_total[5m])``.
    """

    __slots__ = ("_lock", "_watched", "counter")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "backendkit_sql_statements",
            "SQL statements run, by engine.",
            ("engine",),
            registry=registry,
        )
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()

    def watch(self, engine: Any, name: str) -> None:
        """Count ``engine``'s statements as ``engine=name`` (once, however often watched)."""
        from sqlalchemy import event  # the sqlalchemy extra: only when an engine is watched

        target = getattr(engine, "sync_engine", engine)  # an AsyncEngine's events are its core's
        with self._lock:
            if target in self._watched:
                return
            self._watched.add(target)
        child = self.counter.labels(name)

        def counted(*_args: Any) -> None:
            child.inc()

        event.listen(target, "after_cursor_execute", counted)
