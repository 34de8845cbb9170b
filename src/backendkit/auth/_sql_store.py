"""The SQL token store: refresh rotation and revocation on PostgreSQL, MySQL/MariaDB, SQLite.

The store runs each operation in one short transaction of its own, on a connection from
the engine it was given (never inside the caller's unit of work: a rotation must be
durable at once, whatever the request does next). The logic lives in I/O-free flows
(``_sql_flows``) and in the rules shared with the Django store (``_store_rules``); the
methods below only drive them on a sync or an async connection.

Clean-up: every read ignores expired rows, so expired rows only take space. They are
deleted, and grace pairs past their window cleared, by
[`purge_expired`][backendkit.auth.sql.SQLTokenStore.purge_expired]: call it from a
scheduled job, or let the store call it itself after a login or a refresh, at most once
per ``purge_interval`` seconds per store (the default).

Errors are translated at the boundary: an unreachable or overloaded database is
[`BackendUnavailable`][backendkit.errors.BackendUnavailable] (503), so refresh and the
revocation check fail closed, as on Redis.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from backendkit.auth._sql_engines import StoreEngines
from backendkit.auth._sql_flows import (
    Flow,
    check_flow,
    create_flow,
    ping_flow,
    purge_flow,
    revoke_session_flow,
    revoke_token_flow,
    revoke_user_flow,
    rotate_flow,
)
from backendkit.auth._store import NewSession, RotationRequest, RotationResult
from backendkit.auth._store_rules import PurgeSchedule
from backendkit.clock import Clock, system_clock
from backendkit.errors import AppError, ConfigurationError
from backendkit.logging import get_logger
from backendkit.repository import translate_errors

__all__ = ["SQLTokenStore"]

_log = get_logger("backendkit.auth")

#: Dialect names the store builds statements for (``mariadb`` is MySQL's dialect too).
_DIALECTS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def _run(conn: Connection, flow: Flow) -> Any:
    try:
        statement = next(flow)
        while True:
            statement = flow.send(conn.execute(statement))
    except StopIteration as done:
        return done.value


async def _arun(conn: AsyncConnection, flow: Flow) -> Any:
    try:
        statement = next(flow)
        while True:
            statement = flow.send(await conn.execute(statement))
    except StopIteration as done:
        return done.value


def _dialect(engine: Engine | AsyncEngine) -> str:
    name = _DIALECTS.get(engine.dialect.name)
    if name is None:
        raise ConfigurationError(
            "SQLTokenStore supports PostgreSQL, MySQL/MariaDB and SQLite, "
            f"not {engine.dialect.name!r}"
        )
    return name


class SQLTokenStore:
    """Token store on a SQL database, shared by every worker; sync and async.

    The tables (``bk_token_sessions``, ``bk_token_denied``, ``bk_token_user_cutoffs``) are
    on [`auth_metadata`][backendkit.auth.sql.auth_metadata]: include it in the app's
    migrations (the store never creates tables).

    Args:
        engine: an ``Engine`` (sync methods) or an ``AsyncEngine`` (``a``-prefixed
            methods), typically the app's own, from
            [`build_engine`][backendkit.repository.build_engine].
        async_engine: an ``AsyncEngine`` on the same database, to pair with a sync
            ``engine`` so that one store serves both APIs.
        clock: the clock of `purge_expired` when it is called without ``now``.
        purge_interval: seconds (of the times the service passes) between the clean-ups
            the store runs itself after a login or a refresh; ``None`` leaves clean-up to
            scheduled `purge_expired` calls.

    Raises:
        ConfigurationError: a database other than PostgreSQL, MySQL/MariaDB or SQLite, or
            engines on two different kinds of database; or, per call, the sync (or async)
            side is used without an engine of that kind.

    Example:
        ```python
        engine = build_engine("postgresql+psycopg://app@db/app")
        tokens = TokenService(key, store=SQLTokenStore(engine))
        ```
    """

    def __init__(
        self,
        engine: Engine | AsyncEngine,
        *,
        async_engine: AsyncEngine | None = None,
        clock: Clock = system_clock,
        purge_interval: float | None = 60.0,
    ) -> None:
        engines = StoreEngines.of("SQLTokenStore", engine, async_engine, kind=_dialect)
        self._engines = engines
        self._dialect = _dialect(engines.sync or engines.async_engine())
        self._clock = clock
        self._purge = PurgeSchedule("SQLTokenStore", purge_interval)

    # -- I/O shells ---------------------------------------------------------------------

    def _do(self, flow: Flow) -> Any:
        with translate_errors(), self._engines.engine().begin() as conn:
            return _run(conn, flow)

    async def _ado(self, flow: Flow) -> Any:
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                return await _arun(conn, flow)

    def _maybe_purge(self, now: float) -> None:
        if self._purge.due(now):
            try:
                self._do(purge_flow(now))
            except AppError as exc:
                # Clean-up is best effort: the login or refresh already succeeded.
                _log.warning("token_store_purge_failed", error=exc.code)

    async def _amaybe_purge(self, now: float) -> None:
        if self._purge.due(now):
            try:
                await self._ado(purge_flow(now))
            except AppError as exc:
                _log.warning("token_store_purge_failed", error=exc.code)

    # -- TokenStore -----------------------------------------------------------------------

    def create_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        self._do(create_flow(session))
        self._maybe_purge(session.now)

    def rotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse, under the session row's lock."""
        result: RotationResult = self._do(rotate_flow(self._dialect, request))
        self._maybe_purge(request.now)
        return result

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None`` (one ``SELECT``)."""
        reason: str | None = self._do(check_flow(sub, jti, sid, iat, now))
        return reason

    def revoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        if expires_at > now:
            self._do(revoke_token_flow(self._dialect, sub, jti, expires_at, now))

    def revoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        self._do(revoke_session_flow(sub, sid))

    def revoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        self._do(revoke_user_flow(self._dialect, sub, now, until))

    def purge_expired(self, now: float | None = None) -> int:
        """Delete expired rows and clear grace pairs past their window.

        Safe to run at any time, from any number of processes: every read already ignores
        expired rows. Schedule it (cron, a periodic task) when ``purge_interval`` is
        ``None``.

        Args:
            now: the time to purge up to (default: the store's clock).

        Returns:
            The number of rows deleted or cleared.

        Raises:
            BackendUnavailable: the database cannot be reached (503).
        """
        count: int = self._do(purge_flow(self._clock.now() if now is None else now))
        return count

    def ping(self) -> None:
        """Check that the database answers (``SELECT 1``).

        Raises:
            BackendUnavailable: the database cannot be reached (503).
        """
        self._do(ping_flow())

    # -- AsyncTokenStore ------------------------------------------------------------------

    async def acreate_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        await self._ado(create_flow(session))
        await self._amaybe_purge(session.now)

    async def arotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse, under the session row's lock."""
        result: RotationResult = await self._ado(rotate_flow(self._dialect, request))
        await self._amaybe_purge(request.now)
        return result

    async def acheck(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None`` (one ``SELECT``)."""
        reason: str | None = await self._ado(check_flow(sub, jti, sid, iat, now))
        return reason

    async def arevoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        if expires_at > now:
            await self._ado(revoke_token_flow(self._dialect, sub, jti, expires_at, now))

    async def arevoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        await self._ado(revoke_session_flow(sub, sid))

    async def arevoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        await self._ado(revoke_user_flow(self._dialect, sub, now, until))

    async def apurge_expired(self, now: float | None = None) -> int:
        """Async twin of [`purge_expired`][backendkit.auth.sql.SQLTokenStore.purge_expired].

        Raises:
            BackendUnavailable: the database cannot be reached (503).
        """
        count: int = await self._ado(purge_flow(self._clock.now() if now is None else now))
        return count

    async def aping(self) -> None:
        """Async twin of [`ping`][backendkit.auth.sql.SQLTokenStore.ping].

        Raises:
            BackendUnavailable: the database cannot be reached (503).
        """
        await self._ado(ping_flow())

    def __repr__(self) -> str:
        return f"SQLTokenStore(dialect={self._dialect!r})"
