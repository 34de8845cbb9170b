"""One-time tokens on SQLAlchemy: the ``bk_one_time_tokens`` table and the store.

The table is on [`auth_metadata`][backendkit.auth.sql.auth_metadata], so an app's
migrations create it with the other ``bk_`` tables. A token is found by its digest (the
primary key). Consuming reads the row, then deletes it with ``DELETE ... WHERE digest = ?``
and keeps it only when that statement removed the row (``rowcount == 1``): of concurrent
consumers the database lets exactly one delete it (PostgreSQL and MySQL/MariaDB by row
lock, SQLite by its single writer). The same two statements work on every database
(MySQL has no ``DELETE ... RETURNING``). Ids are compared exactly on every database
(``utf8mb4_bin`` on MySQL/MariaDB).

Clean-up: adding a token deletes the same user's expired tokens for that purpose, and
[`purge_expired`][backendkit.auth.sql.SQLOneTimeTokenStore.purge_expired] removes every
expired row (run it from a periodic job if many tokens are never used).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from backendkit.auth._one_time_core import OneTimeToken
from backendkit.auth._sql_engines import StoreEngines
from backendkit.auth._sql_metadata import auth_metadata, exact_string
from backendkit.repository import translate_errors

__all__ = ["SQLOneTimeTokenStore", "one_time_tokens_table"]

one_time_tokens_table = sa.Table(
    "bk_one_time_tokens",
    auth_metadata,
    sa.Column("digest", exact_string(64), primary_key=True),
    sa.Column("purpose", exact_string(40), nullable=False),
    sa.Column("user_id", exact_string(255), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("issued_at", sa.Double, nullable=False),
    sa.Column("expires_at", sa.Double, nullable=False, index=True),
    sa.Index("ix_bk_one_time_tokens_user_purpose", "user_id", "purpose"),
    comment="backendkit: one-time tokens (HMAC digests of the tokens, never the tokens)",
)
"""The ``bk_one_time_tokens`` table (on ``auth_metadata``)."""

_t = one_time_tokens_table.c


def _insert(digest: str, record: OneTimeToken) -> sa.Insert:
    return sa.insert(one_time_tokens_table).values(
        digest=digest,
        purpose=record.purpose,
        user_id=record.user_id,
        email=record.email,
        issued_at=record.issued_at,
        expires_at=record.expires_at,
    )


def _expired_of(record: OneTimeToken) -> sa.Delete:
    return sa.delete(one_time_tokens_table).where(
        _t.user_id == record.user_id,
        _t.purpose == record.purpose,
        _t.expires_at <= record.issued_at,
    )


def _select(digests: Sequence[str]) -> sa.Select[Any]:
    return sa.select(one_time_tokens_table).where(_t.digest.in_(list(digests))).limit(1)


def _delete_one(digest: str) -> sa.Delete:
    return sa.delete(one_time_tokens_table).where(_t.digest == digest)


def _invalidate(user_id: str, purpose: str) -> sa.Delete:
    return sa.delete(one_time_tokens_table).where(_t.user_id == user_id, _t.purpose == purpose)


def _record(row: Any) -> OneTimeToken:
    return OneTimeToken(row.purpose, row.user_id, row.email, row.issued_at, row.expires_at)


class SQLOneTimeTokenStore:
    """One-time tokens in a SQL database (PostgreSQL, MySQL/MariaDB, SQLite).

    Args:
        engine: an ``Engine`` (sync methods) or an ``AsyncEngine`` (``a``-prefixed
            methods), e.g. from [`build_engine`][backendkit.repository.build_engine];
            never closed by the store.
        async_engine: an ``AsyncEngine`` on the same database, to pair with a sync
            ``engine`` so one store serves both APIs.

    Raises:
        ConfigurationError: not an engine, or two engines on different kinds of
            database; per call, the side without an engine.

    Example:
        >>> import sqlalchemy as sa
        >>> from backendkit.auth.sql import auth_metadata
        >>> engine = sa.create_engine("sqlite://")
        >>> auth_metadata.create_all(engine)
        >>> SQLOneTimeTokenStore(engine).take(["0" * 64]) is None
        True
    """

    def __init__(
        self, engine: sa.Engine | AsyncEngine, *, async_engine: AsyncEngine | None = None
    ) -> None:
        self._engines = StoreEngines.of("SQLOneTimeTokenStore", engine, async_engine)

    def add(self, digest: str, record: OneTimeToken) -> None:
        """Insert the token; delete the user's expired tokens for its purpose."""
        with translate_errors(), self._engines.engine().begin() as conn:
            conn.execute(_expired_of(record))
            conn.execute(_insert(digest, record))

    def take(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Read the token's row, then keep it only if this call's ``DELETE`` removed it."""
        with translate_errors(), self._engines.engine().begin() as conn:
            row = conn.execute(_select(digests)).first()
            if row is None or conn.execute(_delete_one(row.digest)).rowcount != 1:
                return None
        return _record(row)

    def invalidate(self, user_id: str, purpose: str) -> int:
        """Delete the user's outstanding tokens for ``purpose``."""
        with translate_errors(), self._engines.engine().begin() as conn:
            return int(conn.execute(_invalidate(user_id, purpose)).rowcount)

    def purge_expired(self, now: float) -> int:
        """Delete every token that expired at or before ``now``; how many."""
        with translate_errors(), self._engines.engine().begin() as conn:
            statement = sa.delete(one_time_tokens_table).where(_t.expires_at <= now)
            return int(conn.execute(statement).rowcount)

    async def aadd(self, digest: str, record: OneTimeToken) -> None:
        """Async twin of ``add``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                await conn.execute(_expired_of(record))
                await conn.execute(_insert(digest, record))

    async def atake(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Async twin of ``take``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                row = (await conn.execute(_select(digests))).first()
                if row is None or (await conn.execute(_delete_one(row.digest))).rowcount != 1:
                    return None
        return _record(row)

    async def ainvalidate(self, user_id: str, purpose: str) -> int:
        """Async twin of ``invalidate``."""
        with translate_errors():
            async with self._engines.async_engine().begin() as conn:
                return int((await conn.execute(_invalidate(user_id, purpose))).rowcount)
