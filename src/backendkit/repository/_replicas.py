"""Read replicas: a session that sends plain reads to a replica engine, everything else to
the primary, decided per statement in ``Session.get_bind`` (SQLAlchemy's hook for
routing; the async session uses the same sync session class).

In order, for each statement:

1. a flush, INSERT/UPDATE/DELETE, ``SELECT ... FOR UPDATE`` or any statement that is not a
   plain SELECT (raw ``text()`` too) goes to the primary and counts as a write: the session
   and the read-your-writes scope (``_scope``) have written;
2. a read in a unit of work (the session is pinned), in a session that has written, or in
   a scope that has written goes to the primary;
3. otherwise the replica, checked out at once: if that fails (refused, unreachable, a
   connect timeout, an error of the driver's own, as asyncpg raises at connect under older
   SQLAlchemy releases), the read goes to the primary and the replica is left alone for
   ``retry_interval`` seconds, after which one read tries it again. The outage is logged
   once per interval (``replica_unavailable``), the recovery once (``replica_recovered``).

A replica that fails after checkout (mid-query) fails that request as any database error
does; a busy replica (pool timeout) is not treated as down.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

from backendkit._write_scope import has_written, record_replica_read, record_write
from backendkit.clock import Clock
from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger
from backendkit.repository._explain import ExplainJson

__all__ = ["Replica", "RoutingSession", "pin_to_primary"]

_log = get_logger("backendkit.repository")

# Keys in Session.info (AsyncSession.info is its sync session's).
_PINNED = "backendkit.primary_only"
_WROTE = "backendkit.wrote"


def pin_to_primary(session: Any) -> None:
    """Send every statement of ``session`` to the primary (what a unit of work does)."""
    session.info[_PINNED] = True


class Replica:
    """A read engine and its health: whether to try it, and the warnings about it.

    One per session factory, shared by its sessions and threads.
    """

    def __init__(
        self, engine: Engine, primary: Engine, *, retry_interval: float, clock: Clock
    ) -> None:
        if engine.dialect.name != primary.dialect.name:
            raise ConfigurationError(
                f"the read engine is {engine.dialect.name}, the primary "
                f"{primary.dialect.name}: a replica must be the same database"
            )
        if not retry_interval > 0:
            raise ValueError("replica_retry_interval must be a positive number of seconds")
        self.engine = engine
        self.retry_interval = float(retry_interval)
        self._clock = clock
        self._lock = threading.Lock()
        self._retry_at: float | None = None  # set while the replica is considered down
        self._warn_at = 0.0
        self._suppressed = 0

    def should_try(self) -> bool:
        """True when up; when down, True once per ``retry_interval`` (the trial read)."""
        with self._lock:
            if self._retry_at is None:
                return True
            now = self._clock.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + self.retry_interval  # one trial at a time
            return True

    def failed(self, exc: BaseException) -> None:
        """The replica could not be checked out: down for ``retry_interval``."""
        with self._lock:
            now = self._clock.monotonic()
            self._retry_at = now + self.retry_interval
            if now < self._warn_at:
                self._suppressed += 1
                return
            self._warn_at = now + self.retry_interval
            suppressed, self._suppressed = self._suppressed, 0
        _log.warning(
            "replica_unavailable",
            error=type(exc).__name__,
            fallback="primary",
            retry_in=self.retry_interval,
            suppressed=suppressed,
        )

    def reached(self) -> None:
        """A read reached the replica."""
        if self._retry_at is None:  # the usual case, without taking the lock
            return
        with self._lock:
            recovered, self._retry_at = self._retry_at is not None, None
        if recovered:
            _log.info("replica_recovered")


def _is_plain_read(clause: ClauseElement) -> bool:
    if isinstance(clause, ExplainJson):  # the estimated count's plan of a SELECT
        clause = clause.statement
    return bool(getattr(clause, "is_select", False)) and (
        getattr(clause, "_for_update_arg", None) is None
    )


class RoutingSession(Session):
    """A ``Session`` that sends plain reads to ``replica`` (see the module docs).

    Built by ``build_session_factory(engine, read_engine=...)`` and its async twin; without
    a replica it routes nothing but still records writes for read-your-writes.
    """

    def __init__(self, *args: Any, replica: Replica | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replica = replica

    def get_bind(
        self,
        mapper: Any = None,
        *,
        clause: ClauseElement | None = None,
        bind: Any = None,
        **kw: Any,
    ) -> Engine | Connection:
        """The primary, or the replica for a plain read that may use it."""
        primary = super().get_bind(mapper, clause=clause, bind=bind, **kw)
        if bind is not None:
            return primary  # an explicit bind wins
        if self._flushing or (clause is not None and not _is_plain_read(clause)):
            self.info[_WROTE] = True
            record_write()
            return primary
        replica = self.replica
        if (
            clause is None  # a mapper's engine (its dialect), not a statement to run
            or replica is None
            or self.info.get(_PINNED)
            or self.info.get(_WROTE)
            or has_written()
            or not replica.should_try()
        ):
            return primary
        try:
            # Check out now (or reuse this transaction's connection), so a replica that is
            # down sends this read to the primary instead of failing it.
            self.connection(bind_arguments={"bind": replica.engine})
        except PoolTimeout:
            raise  # busy, not down: the pool's own timeout is the answer
        except Exception as exc:  # drivers may raise their own errors at connect (asyncpg)
            replica.failed(exc)
            return primary
        replica.reached()
        record_replica_read()
        return replica.engine
