"""API keys on SQLAlchemy: the ``bk_api_keys`` table and the sync and async stores.

The table is on [`auth_metadata`][backendkit.auth.sql.auth_metadata], which an app adds to
its Alembic ``target_metadata`` so its migrations create it. A key is read by its primary
key (the public id), so checking one is a single indexed read; the owner's keys are listed
through an index on ``user_id``. Times are seconds since the epoch (``DOUBLE``), from the
service's clock, so every database stores the same value and tests move time.

Statements are built once here; the sync and async methods only execute them, each call in
its own transaction. Database errors become backendkit's (a database that is down is a
``503``) through [`translate_errors`][backendkit.repository.translate_errors].
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from backendkit.auth._api_key_core import (
    ApiKey,
    ApiKeyRecord,
    key_from_row,
    record_from_row,
    record_values,
)
from backendkit.auth._sql_engines import StoreEngines
from backendkit.auth._sql_metadata import auth_metadata
from backendkit.repository import translate_errors

__all__ = ["SQLApiKeyStore", "api_keys_table"]

api_keys_table = sa.Table(
    "bk_api_keys",
    auth_metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("prefix", sa.String(40), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=True),
    sa.Column("last_used_at", sa.Double, nullable=True),
    sa.Column("revoked_at", sa.Double, nullable=True),
    comment="backendkit: API keys (HMAC digests of their secrets, never the secrets)",
)
"""The ``bk_api_keys`` table (on ``auth_metadata``)."""

_t = api_keys_table.c


def _insert(record: ApiKeyRecord) -> sa.Insert:
    return sa.insert(api_keys_table).values(**record_values(record))


def _select_one(key_id: str) -> sa.Select[Any]:
    return sa.select(api_keys_table).where(_t.id == key_id)


def _select_user(user_id: str) -> sa.Select[Any]:
    return (
        sa.select(api_keys_table)
        .where(_t.user_id == user_id, _t.revoked_at.is_(None))
        .order_by(_t.created_at, _t.id)
    )


def _revoke(key_id: str, user_id: str, now: float) -> sa.Update:
    return (
        sa.update(api_keys_table)
        .where(_t.id == key_id, _t.user_id == user_id, _t.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _touch(key_id: str, now: float, before: float) -> sa.Update:
    # One conditional write: of concurrent uses in the same minute, only one changes the row.
    return (
        sa.update(api_keys_table)
        .where(_t.id == key_id, sa.or_(_t.last_used_at.is_(None), _t.last_used_at < before))
        .values(last_used_at=now)
    )


class SQLApiKeyStore:
    """API keys in a SQL database (PostgreSQL, MySQL/MariaDB, SQLite) through SQLAlchemy.

    Args:
        engine: an ``Engine`` (sync methods) or an ``AsyncEngine`` (``a``-prefixed methods),
            e.g. from [`build_engine`][backendkit.repository.build_engine]; never closed
            by the store.
        async_engine: an ``AsyncEngine`` on the same database, to pair with a sync
            ``engine`` so that one store serves both APIs.

    Raises:
        ConfigurationError: ``engine`` is not an engine, or the two engines are on
            different kinds of database; per call, the side without an engine.

    Example:
        >>> import sqlalchemy as sa
        >>> from backendkit.auth.sql import auth_metadata
        >>> engine = sa.create_engine("sqlite://")
        >>> auth_metadata.create_all(engine)
        >>> SQLApiKeyStore(engine).list_for("7")
        []
    """

    def __init__(
        self, engine: sa.Engine | AsyncEngine, *, async_engine: AsyncEngine | None = None
    ) -> None:
        self._engines = StoreEngines.of("SQLApiKeyStore", engine, async_engine)

    def supports(self, flavour: str) -> bool:
        """True when an engine serves ``flavour`` (``"sync"`` or ``"async"``) calls."""
        engines = self._engines
        return (engines.sync if flavour == "sync" else engines.asynchronous) is not None

    def add(self, record: ApiKeyRecord) -> None:
        """Insert a new key."""
        with translate_errors(), self._engines.engine().begin() as conn:
            conn.execute(_insert(record))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this public id, or ``None`` (one primary-key read)."""
        with translate_errors(), self._engines.engine().connect() as conn:
            row = conn.execute(_select_one(key_id)).first()
        return None if row is None else record_from_row(row)

    def list_for(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked, oldest first."""
        with translate_errors(), self._engines.engine().connect() as conn:
            return [key_from_row(row) for row in conn.execute(_select_user(user_id))]

    def revoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Revoke the user's live key; ``False`` when there is none."""
        with translate_errors(), self._engines.engine().begin() as conn:
            return bool(conn.execute(_revoke(key_id, user_id, now)).rowcount)

    def touch(self, key_id: str, now: float, before: float) -> None:
        """Set ``last_used_at`` unless a use at or after ``before`` set it already."""
        with translate_errors(), self._engines.engine().begin() as conn:
            conn.execute(_touch(key_id, now, before))

    async def aadd(self, record: ApiKeyRecord) -> None:
        """Async twin of ``add``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                await conn.execute(_insert(record))

    async def aget(self, key_id: str) -> ApiKeyRecord | None:
        """Async twin of ``get``."""
        with translate_errors():
            async with self._engines.async_engine().connect() as conn:
                row = (await conn.execute(_select_one(key_id))).first()
        return None if row is None else record_from_row(row)

    async def alist_for(self, user_id: str) -> list[ApiKey]:
        """Async twin of ``list_for``."""
        with translate_errors():
            async with self._engines.async_engine().connect() as conn:
                return [key_from_row(row) for row in await conn.execute(_select_user(user_id))]

    async def arevoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Async twin of ``revoke``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                return bool((await conn.execute(_revoke(key_id, user_id, now))).rowcount)

    async def atouch(self, key_id: str, now: float, before: float) -> None:
        """Async twin of ``touch``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                await conn.execute(_touch(key_id, now, before))
