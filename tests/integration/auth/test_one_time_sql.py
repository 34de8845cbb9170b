"""SQLOneTimeTokenStore: the one-time token contract on SQLite, PostgreSQL and MariaDB (a
database per module, dropped after), sync and async, with 20 consumes of one token racing
on their own pooled connections; the table; clean-up of expired rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa
from tests.integration.auth._sql_databases import KINDS, SqlDatabase, sql_database
from tests.unit.auth._one_time_contract import ANN, SERVER_KEY, Driver, OneTimeContract, Outbox

from backendkit.auth import PASSWORD_RESET, OneTimeTokens
from backendkit.auth.sql import SQLOneTimeTokenStore, auth_metadata, one_time_tokens_table
from backendkit.errors import ConfigurationError
from backendkit.repository import build_async_engine, build_engine
from backendkit.testing import FakeClock

# Enough connections for every racing consume to hold its own.
_POOL = {"pool_size": 20, "max_overflow": 5}


@pytest.fixture(scope="module", params=KINDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlDatabase]:
    yield from sql_database(request.param, tmp_path_factory.mktemp("one-time"))


def _clear(database: SqlDatabase) -> None:
    with database.setup.begin() as conn:
        conn.execute(one_time_tokens_table.delete())


class TestSQLStore(OneTimeContract):
    @pytest.fixture(params=["sync", "async"])
    async def ott(
        self, request: pytest.FixtureRequest, database: SqlDatabase
    ) -> AsyncIterator[Driver]:
        clock, outbox = FakeClock(), Outbox()
        if request.param == "sync":
            engine = build_engine(database.url, **_POOL)
            store = SQLOneTimeTokenStore(engine)
        else:
            async_engine = build_async_engine(database.async_url, **_POOL)
            store = SQLOneTimeTokenStore(async_engine)
        service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox, clock=clock)
        try:
            yield Driver(service, clock, outbox, asynchronous=request.param == "async")
        finally:
            if request.param == "sync":
                engine.dispose()
            else:
                await async_engine.dispose()
            _clear(database)


def test_the_table_holds_digests_never_tokens(database: SqlDatabase) -> None:
    """bk_one_time_tokens is on auth_metadata, keyed by the digest, indexed by (user,
    purpose); its row has no trace of the token."""
    assert auth_metadata.tables["bk_one_time_tokens"] is one_time_tokens_table
    inspector = sa.inspect(database.setup)
    assert inspector.get_pk_constraint("bk_one_time_tokens")["constrained_columns"] == ["digest"]
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("bk_one_time_tokens")}
    assert ("user_id", "purpose") in indexed
    outbox = Outbox()
    service = OneTimeTokens(
        SQLOneTimeTokenStore(database.setup), keys=[SERVER_KEY], sender=outbox, clock=FakeClock()
    )
    try:
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        with database.setup.connect() as conn:
            rows = [tuple(row) for row in conn.execute(sa.select(one_time_tokens_table))]
        assert len(rows) == 1
        assert outbox.last() not in repr(rows)
    finally:
        _clear(database)


async def test_expired_rows_are_cleaned_up(database: SqlDatabase) -> None:
    """A new token deletes the same user's expired ones for its purpose; purge_expired
    deletes the rest; live rows stay."""
    clock = FakeClock()
    store = SQLOneTimeTokenStore(database.setup)
    service = OneTimeTokens(store, keys=[SERVER_KEY], sender=Outbox(), clock=clock)
    try:
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        service.issue(PASSWORD_RESET, "bob@example.com", user_id="8", address=None)
        clock.advance(service.ttl(PASSWORD_RESET))
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        assert database.count(one_time_tokens_table) == 2
        assert store.purge_expired(clock.now()) == 1
        assert database.count(one_time_tokens_table) == 1
    finally:
        _clear(database)


async def test_engines_serve_their_flavour_and_bad_ones_are_refused(
    database: SqlDatabase, tmp_path: object
) -> None:
    """A sync engine refuses the async API and the other way round; a non-engine, or
    engines on two kinds of database, are refused at construction."""
    engine = build_engine(database.url, pool_size=1)
    async_engine = build_async_engine(database.async_url, pool_size=1)
    try:
        with pytest.raises(ConfigurationError):
            await SQLOneTimeTokenStore(engine).atake(["0" * 64])
        with pytest.raises(ConfigurationError):
            SQLOneTimeTokenStore(async_engine).take(["0" * 64])
        with pytest.raises(ConfigurationError):
            SQLOneTimeTokenStore("sqlite://")  # type: ignore[arg-type]
        both = SQLOneTimeTokenStore(engine, async_engine=async_engine)
        assert both.take(["0" * 64]) is None
        assert await both.atake(["0" * 64]) is None
        if database.kind != "sqlite":
            other = build_async_engine("sqlite+aiosqlite://", pool_size=1)
            with pytest.raises(ConfigurationError):
                SQLOneTimeTokenStore(engine, async_engine=other)
            await other.dispose()
    finally:
        engine.dispose()
        await async_engine.dispose()
