"""SQLApiKeyStore: the API-key contract on SQLite, PostgreSQL and MariaDB (a database created
for the module and dropped after it), through the sync and the async API; its table and
index, one primary-key read per check, and a database that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import sqlalchemy as sa
from tests._services import DeadPort
from tests.integration.auth._sql_databases import KINDS, SqlDatabase, sql_database
from tests.unit.auth._api_key_contract import ALICE, SERVER_KEY, ApiKeyContract, KeyDriver

from backendkit.auth import ApiKeyService
from backendkit.auth.sql import SQLApiKeyStore, api_keys_table, auth_metadata
from backendkit.errors import BackendUnavailable, ConfigurationError, InvalidToken
from backendkit.repository import build_async_engine, build_engine
from backendkit.testing import FakeClock


@pytest.fixture(scope="module", params=KINDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlDatabase]:
    yield from sql_database(request.param, tmp_path_factory.mktemp("api-keys"))


def _clear(database: SqlDatabase) -> None:
    with database.setup.begin() as conn:
        conn.execute(api_keys_table.delete())


class TestSQLStore(ApiKeyContract):
    @pytest.fixture(params=["sync", "async"])
    async def keys(
        self, request: pytest.FixtureRequest, database: SqlDatabase
    ) -> AsyncIterator[KeyDriver]:
        clock = FakeClock()
        if request.param == "sync":
            engine = build_engine(database.url, pool_size=2)
            store = SQLApiKeyStore(engine)
        else:
            async_engine = build_async_engine(database.async_url, pool_size=2)
            store = SQLApiKeyStore(async_engine)
        service = ApiKeyService(store, keys=[SERVER_KEY], clock=clock)
        try:
            yield KeyDriver(service, clock, asynchronous=request.param == "async")
        finally:
            if request.param == "sync":
                engine.dispose()
            else:
                await async_engine.dispose()
            _clear(database)


def test_the_table_is_on_auth_metadata_with_its_indexes(database: SqlDatabase) -> None:
    """bk_api_keys: looked up by its primary key (the public id), listed by user_id's index."""
    assert auth_metadata.tables["bk_api_keys"] is api_keys_table
    inspector = sa.inspect(database.setup)
    assert inspector.get_pk_constraint("bk_api_keys")["constrained_columns"] == ["id"]
    indexed = {tuple(ix["column_names"]) for ix in inspector.get_indexes("bk_api_keys")}
    assert ("user_id",) in indexed


def test_a_check_is_one_primary_key_read_and_the_secret_is_never_stored(
    database: SqlDatabase,
) -> None:
    """Authenticating runs one SELECT by id (plus the throttled last-used UPDATE); no row
    holds the secret."""
    engine = build_engine(database.url, pool_size=1)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    clock = FakeClock()
    service = ApiKeyService(SQLApiKeyStore(engine), keys=[SERVER_KEY], clock=clock)
    try:
        new = service.create(ALICE, name="ci")
        statements.clear()
        service.authenticate(new.secret)
        clock.advance(1)
        service.authenticate(new.secret)
        kinds = [s.split()[0].upper() for s in statements]
        assert kinds == ["SELECT", "UPDATE", "SELECT"]
        with database.setup.connect() as conn:
            row = conn.execute(sa.select(api_keys_table)).one()
        secret = new.secret.split("_", 2)[2]  # the secret itself may contain "_"
        assert all(secret not in str(value) for value in row)
        assert len(row.digest) == 64
    finally:
        engine.dispose()
        _clear(database)


def test_the_last_used_write_is_conditional(database: SqlDatabase) -> None:
    """Two workers that both read the key as due: only the first write lands (the second
    UPDATE's condition no longer holds), so a minute's uses write once in any process."""
    engine = build_engine(database.url, pool_size=2)
    clock = FakeClock()
    store = SQLApiKeyStore(engine)
    try:
        new = ApiKeyService(store, keys=[SERVER_KEY], clock=clock).create(ALICE, name="ci")
        now = clock.now()
        store.touch(new.key.id, now, now - 60)
        store.touch(new.key.id, now + 1, now + 1 - 60)  # the other worker, a second later
        record = store.get(new.key.id)
        assert record is not None
        assert record.key.last_used_at == pytest.approx(now)
        store.touch(new.key.id, now + 60, now)  # a minute later: due again
        record = store.get(new.key.id)
        assert record is not None
        assert record.key.last_used_at == pytest.approx(now + 60)
    finally:
        engine.dispose()
        _clear(database)


def test_a_database_that_is_down_is_a_503() -> None:
    """Nothing listens: BackendUnavailable (503), not a 401 nor a 500; a malformed key is
    refused without asking the database."""
    dead = DeadPort()
    engine = build_engine(f"postgresql+psycopg://u@127.0.0.1:{dead.port}/x", pool_size=1)
    service = ApiKeyService(SQLApiKeyStore(engine), keys=[SERVER_KEY])
    try:
        with pytest.raises(BackendUnavailable):
            service.authenticate("bk_0123456789abcdef_" + "A" * 43)
        with pytest.raises(InvalidToken):
            service.authenticate("bk_malformed")
    finally:
        engine.dispose()
        dead.close()


async def test_one_store_serves_what_its_engines_allow(database: SqlDatabase) -> None:
    """A sync engine alone refuses async calls; paired with an async engine it serves both."""
    engine = build_engine(database.url, pool_size=1)
    async_engine = build_async_engine(database.async_url, pool_size=1)
    try:
        alone = ApiKeyService(SQLApiKeyStore(engine), keys=[SERVER_KEY])
        assert alone.supports("sync")
        assert not alone.supports("async")
        with pytest.raises(ConfigurationError, match="no async engine"):
            await alone.alist_keys("alice")
        both = ApiKeyService(SQLApiKeyStore(engine, async_engine=async_engine), keys=[SERVER_KEY])
        new = both.create(ALICE, name="ci")
        assert (await both.aauthenticate(new.secret)).id == new.key.id
        async_only = SQLApiKeyStore(async_engine)
        with pytest.raises(ConfigurationError, match="no sync engine"):
            async_only.get(new.key.id)
    finally:
        engine.dispose()
        await async_engine.dispose()
        _clear(database)


def test_bad_engines_are_refused() -> None:
    """Not an engine, or engines on two kinds of database: ConfigurationError."""
    with pytest.raises(ConfigurationError):
        SQLApiKeyStore("sqlite://")  # type: ignore[arg-type]
    sqlite = sa.create_engine("sqlite://")
    other = build_async_engine("postgresql+asyncpg://u@127.0.0.1:1/x", pool_size=1)
    with pytest.raises(ConfigurationError, match="same database"):
        SQLApiKeyStore(sqlite, async_engine=other)
    assert SQLApiKeyStore(sqlite).supports("sync")
