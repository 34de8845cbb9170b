"""Engines and session factories with production defaults, sync and async.

What [`build_engine`][backendkit.repository.build_engine] sets up, and why:

* A bounded connection pool (``pool_size`` + ``max_overflow``), ``pool_timeout`` so a
  request waits a bounded time for a connection, ``pool_pre_ping`` so a connection the
  server dropped is replaced instead of failing a request, and ``pool_recycle`` to retire
  connections before firewalls or the server's idle timeout cut them.
* A statement timeout where the database has one: PostgreSQL ``statement_timeout``
  (psycopg ``options=-c ...``, asyncpg ``server_settings``), MariaDB
  ``max_statement_time`` and MySQL ``max_execution_time`` (set on each new connection).
* SQLite: WAL journal (readers do not block the writer), ``busy_timeout`` (wait for a lock
  instead of failing at once) and ``foreign_keys=ON`` (off by default in SQLite).
* ``hide_parameters``: bound values never appear in error messages or logs.
* After ``fork()`` (gunicorn, uwsgi pre-forking) the child drops the pool it inherited,
  without closing the parent's connections, and opens its own.

Session factories use ``expire_on_commit=False``: objects stay readable after commit, so
async code never hits a lazy refresh (``MissingGreenlet``) when it reads them.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)
from sqlalchemy.ext.asyncio import (
    create_async_engine as sa_create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from backendkit.clock import Clock, system_clock
from backendkit.repository._replicas import Replica, RoutingSession

__all__ = [
    "build_async_engine",
    "build_async_session_factory",
    "build_engine",
    "build_session_factory",
]

_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _dispose_in_child() -> None:
    # The child shares the parent's sockets: forget them (close=False) rather than close them.
    for engine in list(_ENGINES):
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_dispose_in_child)


def _options(
    url: URL,
    *,
    pool_size: int,
    max_overflow: int,
    pool_timeout: float,
    pool_recycle: int,
    pool_pre_ping: bool,
    statement_timeout: float | None,
    connect_timeout: float | None,
    hide_parameters: bool,
    extra: dict[str, Any],
) -> dict[str, Any]:
    options: dict[str, Any] = {"hide_parameters": hide_parameters, "pool_pre_ping": pool_pre_ping}
    pool_class: type[Any] = url.get_dialect().get_pool_class(url)  # type: ignore[attr-defined]
    if issubclass(pool_class, QueuePool):  # in-memory SQLite uses a single-connection pool
        options.update(
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
        )
    connect_args: dict[str, Any] = {}
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend == "postgresql":
        if driver == "asyncpg":
            if statement_timeout is not None:
                connect_args["server_settings"] = {
                    "statement_timeout": str(int(statement_timeout * 1000))
                }
            if connect_timeout is not None:
                connect_args["timeout"] = connect_timeout
        else:
            if statement_timeout is not None:
                connect_args["options"] = f"-c statement_timeout={int(statement_timeout * 1000)}"
            if connect_timeout is not None:
                connect_args["connect_timeout"] = max(1, round(connect_timeout))
    elif backend in ("mysql", "mariadb") and connect_timeout is not None:
        connect_args["connect_timeout"] = max(1, round(connect_timeout))
    for key, value in dict(extra.pop("connect_args", {})).items():
        # Merge rather than replace what the defaults set (e.g. extra `-c` options).
        if key == "options" and key in connect_args:
            connect_args[key] = f"{connect_args[key]} {value}"
        elif key == "server_settings" and key in connect_args:
            connect_args[key] = {**connect_args[key], **value}
        else:
            connect_args[key] = value
    if connect_args:
        options["connect_args"] = connect_args
    options.update(extra)
    return options


def _install_connect_hooks(
    engine: Engine, url: URL, statement_timeout: float | None, sqlite_busy_timeout: float
) -> None:
    backend = url.get_backend_name()
    if backend == "sqlite":
        memory = url.database in (None, "", ":memory:") or "mode=memory" in str(url)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                if not memory:
                    cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout * 1000)}")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

    elif backend in ("mysql", "mariadb") and statement_timeout is not None:

        @event.listens_for(engine, "connect")
        def _mysql_timeout(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT VERSION()")
                version = str(cursor.fetchone()[0])
                if "mariadb" in version.lower():
                    cursor.execute(f"SET SESSION max_statement_time={float(statement_timeout)}")
                else:  # MySQL: milliseconds, applies to SELECT statements
                    cursor.execute(
                        f"SET SESSION max_execution_time={int(statement_timeout * 1000)}"
                    )
            finally:
                cursor.close()


def build_engine(
    url: str | URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = True,
    statement_timeout: float | None = 30.0,
    connect_timeout: float | None = 10.0,
    sqlite_busy_timeout: float = 5.0,
    hide_parameters: bool = True,
    **engine_options: Any,
) -> Engine:
    """Create a sync ``Engine`` with production defaults (see the module docs).

    Args:
        url: A SQLAlchemy URL (``sqlite:///app.db``, ``postgresql+psycopg://...``,
            ``mysql+pymysql://...``).
        pool_size: Connections kept open.
        max_overflow: Extra connections allowed under load, closed when returned.
        pool_timeout: Seconds to wait for a free connection before failing.
        pool_recycle: Seconds after which a connection is replaced.
        pool_pre_ping: Test each connection when checked out.
        statement_timeout: Seconds a statement may run (``None``: no limit).
        connect_timeout: Seconds to wait for a new connection (``None``: driver default).
        sqlite_busy_timeout: Seconds SQLite waits for a lock.
        hide_parameters: Keep bound values out of error messages and logs.
        **engine_options: Passed to ``sqlalchemy.create_engine`` (override any default).
    """
    parsed = make_url(url)
    engine = sa_create_engine(
        parsed,
        **_options(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
            statement_timeout=statement_timeout,
            connect_timeout=connect_timeout,
            hide_parameters=hide_parameters,
            extra=dict(engine_options),
        ),
    )
    _install_connect_hooks(engine, parsed, statement_timeout, sqlite_busy_timeout)
    _ENGINES.add(engine)
    return engine


def build_async_engine(
    url: str | URL,
    *,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    pool_recycle: int = 1800,
    pool_pre_ping: bool = True,
    statement_timeout: float | None = 30.0,
    connect_timeout: float | None = 10.0,
    sqlite_busy_timeout: float = 5.0,
    hide_parameters: bool = True,
    **engine_options: Any,
) -> AsyncEngine:
    """Create an ``AsyncEngine`` (``postgresql+asyncpg``, ``mysql+asyncmy``,
    ``sqlite+aiosqlite``) with the same defaults as
    [`build_engine`][backendkit.repository.build_engine]."""
    parsed = make_url(url)
    engine = sa_create_async_engine(
        parsed,
        **_options(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=pool_recycle,
            pool_pre_ping=pool_pre_ping,
            statement_timeout=statement_timeout,
            connect_timeout=connect_timeout,
            hide_parameters=hide_parameters,
            extra=dict(engine_options),
        ),
    )
    _install_connect_hooks(engine.sync_engine, parsed, statement_timeout, sqlite_busy_timeout)
    _ENGINES.add(engine.sync_engine)
    return engine


def build_session_factory(
    engine: Engine,
    *,
    read_engine: Engine | None = None,
    replica_retry_interval: float = 5.0,
    clock: Clock = system_clock,
    **options: Any,
) -> sessionmaker[Session]:
    """A ``sessionmaker`` with ``expire_on_commit=False`` (objects usable after commit).

    Args:
        engine: The primary: every write, and every read that must see writes.
        read_engine: A replica of the same database: plain reads go there, except in a
            unit of work and after a write of the same session or request (see the
            repository guide's "Read replicas"); while it cannot be reached, the primary.
        replica_retry_interval: Seconds a replica that could not be reached is left alone
            before one read tries it again (and between two warnings about it).
        clock: Time source of ``replica_retry_interval``.
        **options: Passed to ``sessionmaker``.
    """
    options.setdefault("expire_on_commit", False)
    if read_engine is not None:
        replica = Replica(read_engine, engine, retry_interval=replica_retry_interval, clock=clock)
        options.update(class_=RoutingSession, replica=replica)
    return sessionmaker(engine, **options)


def build_async_session_factory(
    engine: AsyncEngine,
    *,
    read_engine: AsyncEngine | None = None,
    replica_retry_interval: float = 5.0,
    clock: Clock = system_clock,
    **options: Any,
) -> async_sessionmaker[AsyncSession]:
    """An ``async_sessionmaker`` with ``expire_on_commit=False``: after ``commit()`` loaded
    attributes stay readable without I/O, so no ``MissingGreenlet``. ``read_engine``,
    ``replica_retry_interval`` and ``clock`` as in
    [`build_session_factory`][backendkit.repository.build_session_factory]."""
    options.setdefault("expire_on_commit", False)
    if read_engine is not None:
        replica = Replica(
            read_engine.sync_engine,
            engine.sync_engine,
            retry_interval=replica_retry_interval,
            clock=clock,
        )
        options.update(sync_session_class=RoutingSession, replica=replica)
    return async_sessionmaker(engine, **options)
