"""SQLTokenStore specifics: its tables, clean-up, round trips, failing closed, configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests._services import DeadPort
from tests.integration.auth._sql_databases import KINDS, SqlDatabase, sql_database

import backendkit.auth.sql as auth_sql
from backendkit.auth import (
    AsyncTokenStore,
    JWTKey,
    NewSession,
    RotationRequest,
    TokenService,
    TokenStore,
)
from backendkit.auth.sql import (
    SQLTokenStore,
    auth_metadata,
    token_denied_table,
    token_sessions_table,
    token_user_cutoffs_table,
)
from backendkit.errors import BackendUnavailable, ConfigurationError, InvalidToken
from backendkit.repository import build_async_engine, build_engine
from backendkit.testing import FakeClock, capture_logs

SECRET = b"sql-store-test-secret-0123456789ab"


def _key() -> JWTKey:
    return JWTKey.hmac(SECRET, kid="sql-1")


@pytest.fixture(scope="module", params=KINDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlDatabase]:
    yield from sql_database(request.param, tmp_path_factory.mktemp("tokens"))


@pytest.fixture
def engine(database: SqlDatabase) -> Iterator[sa.Engine]:
    engine = build_engine(database.url, pool_size=2)
    yield engine
    engine.dispose()
    database.clear()


@pytest.fixture
async def async_engine(database: SqlDatabase) -> AsyncIterator[Any]:
    engine = build_async_engine(database.async_url, pool_size=2)
    yield engine
    await engine.dispose()
    database.clear()


def _rotation(old: str, new: str, now: float, grace: float = 5.0) -> RotationRequest:
    return RotationRequest("u", "s1", old, new, '{"pair": 1}', now, grace, now + 100)


def test_tables_are_on_auth_metadata() -> None:
    """The three bk_ tables are on the shared MetaData, each indexed on expires_at."""
    names = {token_sessions_table.name, token_denied_table.name, token_user_cutoffs_table.name}
    assert names == {"bk_token_sessions", "bk_token_denied", "bk_token_user_cutoffs"}
    assert names <= set(auth_metadata.tables)
    for table in (token_sessions_table, token_denied_table, token_user_cutoffs_table):
        assert any(list(index.columns) == [table.c.expires_at] for index in table.indexes)
    assert sorted(auth_sql.__all__) == auth_sql.__all__
    assert all(hasattr(auth_sql, name) for name in auth_sql.__all__)


def test_store_implements_both_protocols(engine: sa.Engine) -> None:
    """One store class serves the sync and the async API."""
    store = SQLTokenStore(engine)
    assert isinstance(store, TokenStore)
    assert isinstance(store, AsyncTokenStore)
    assert repr(store).startswith("SQLTokenStore(dialect=")


def test_purge_deletes_expired_rows_and_stale_grace_pairs(
    engine: sa.Engine, database: SqlDatabase
) -> None:
    """purge_expired removes what expired and the grace pair once its window ended."""
    store = SQLTokenStore(engine, purge_interval=None)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=50.0))
    store.create_session(NewSession("u", "s2", "k1", now=0.0, expires_at=500.0))
    store.revoke_token("u", "j9", expires_at=50.0, now=0.0)
    store.revoke_user("v", now=0.0, until=50.0)
    assert store.rotate(RotationRequest("u", "s2", "k1", "k2", "{}", 10.0, 5.0, 500.0)).status == (
        "rotated"
    )
    assert store.purge_expired(now=49.0) == 1  # only the grace pair (window ended at 15)
    with engine.connect() as conn:
        pair = conn.execute(sa.select(token_sessions_table.c.grace_pair)).scalars().all()
    assert pair == [None, None]
    assert store.purge_expired(now=50.0) == 3  # session s1, the denied id, v's cut-off
    assert [
        database.count(t)
        for t in (token_sessions_table, token_denied_table, token_user_cutoffs_table)
    ] == [
        1,
        0,
        0,
    ]
    assert store.purge_expired(now=50.0) == 0
    assert store.check("u", None, "s2", 0.0, now=60.0) is None  # the live session stays


def test_expired_rows_are_ignored_before_any_purge(engine: sa.Engine) -> None:
    """Every read treats an expired row as absent, purged or not."""
    store = SQLTokenStore(engine, purge_interval=None)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    store.revoke_token("u", "j9", expires_at=10.0, now=0.0)
    assert store.check("u", None, "s1", 0.0, now=99.0) is None
    assert store.check("u", None, "s1", 0.0, now=100.0) == "session_unknown"
    assert store.rotate(_rotation("j1", "j2", now=100.0)).status == "unknown"
    assert store.check("u", "j9", None, 0.0, now=9.0) == "token_revoked"
    assert store.check("u", "j9", None, 0.0, now=10.0) is None


def test_the_store_purges_after_writes_once_per_interval(
    engine: sa.Engine, database: SqlDatabase
) -> None:
    """Logins and refreshes purge at most once per purge_interval of the service's time."""
    store = SQLTokenStore(engine, purge_interval=100.0)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=10.0))  # purges (none)
    store.create_session(NewSession("u", "s2", "k1", now=20.0, expires_at=500.0))  # too soon
    assert database.count(token_sessions_table) == 2
    assert store.rotate(_rotation("zz", "zz2", now=100.0)).status == "unknown"  # purges s1
    assert database.count(token_sessions_table) == 1


def test_without_interval_only_explicit_purges_delete(
    engine: sa.Engine, database: SqlDatabase
) -> None:
    """purge_interval=None: nothing is deleted until purge_expired is called."""
    store = SQLTokenStore(engine, purge_interval=None)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=10.0))
    store.create_session(NewSession("u", "s2", "k1", now=1000.0, expires_at=2000.0))
    assert database.count(token_sessions_table) == 2
    assert store.purge_expired(now=1000.0) == 1


async def test_async_purge_and_clock_default(
    async_engine: Any, database: SqlDatabase, fake_clock: FakeClock
) -> None:
    """apurge_expired purges up to the store's clock when given no time."""
    store = SQLTokenStore(async_engine, clock=fake_clock, purge_interval=None)
    now = fake_clock.now()
    await store.acreate_session(NewSession("u", "s1", "j1", now=now, expires_at=now + 10))
    await store.aping()
    assert await store.apurge_expired() == 0
    fake_clock.advance(10)
    assert await store.apurge_expired() == 1
    assert database.count(token_sessions_table) == 0


def test_sync_purge_uses_the_clock(engine: sa.Engine, fake_clock: FakeClock) -> None:
    """purge_expired without a time purges up to the store's clock."""
    store = SQLTokenStore(engine, clock=fake_clock, purge_interval=None)
    now = fake_clock.now()
    store.create_session(NewSession("u", "s1", "j1", now=now, expires_at=now + 10))
    assert store.purge_expired() == 0
    fake_clock.advance(10)
    assert store.purge_expired() == 1


def test_denials_and_cutoffs_never_move_back(engine: sa.Engine) -> None:
    """A later, shorter denial keeps the longer one; an older revoke_user keeps the cut-off."""
    store = SQLTokenStore(engine)
    store.revoke_token("u", "j1", expires_at=100.0, now=0.0)
    store.revoke_token("u", "j1", expires_at=20.0, now=1.0)
    assert store.check("u", "j1", None, 0.0, now=50.0) == "token_revoked"
    store.revoke_token("u", "j1", expires_at=200.0, now=2.0)
    assert store.check("u", "j1", None, 0.0, now=150.0) == "token_revoked"
    store.revoke_token("u", "j2", expires_at=5.0, now=6.0)  # already expired: nothing kept
    assert store.check("u", "j2", None, 0.0, now=6.0) is None
    store.revoke_user("u", now=50.0, until=200.0)
    store.revoke_user("u", now=40.0, until=100.0)  # an out-of-order, older call
    assert store.check("u", None, None, 45.0, now=60.0) == "user_revoked"
    assert store.check("u", None, None, None, now=60.0) == "user_revoked"
    assert store.check("u", None, None, 50.0, now=60.0) is None
    assert store.check("u", None, None, 45.0, now=199.0) == "user_revoked"
    assert store.check("u", None, None, 45.0, now=200.0) is None


async def test_async_denials_and_session_revocation(async_engine: Any) -> None:
    """The async side writes and reads the same rows."""
    store = SQLTokenStore(async_engine)
    await store.acreate_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    await store.arevoke_token("u", "j5", expires_at=100.0, now=0.0)
    await store.arevoke_token("u", "j6", expires_at=1.0, now=2.0)
    assert await store.acheck("u", "j5", None, 0.0, now=1.0) == "token_revoked"
    assert await store.acheck("u", "j6", None, 0.0, now=1.0) is None
    await store.arevoke_session("u", "s1", now=1.0)
    assert await store.acheck("u", None, "s1", 0.0, now=1.0) == "session_revoked"


def test_a_check_is_one_statement_and_a_rotation_three(
    engine: sa.Engine, database: SqlDatabase
) -> None:
    """The revocation check is one SELECT; a rotation locks, reads the denial and writes."""
    store = SQLTokenStore(engine)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE")):
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        store.check("u", "j0", "s1", 0.0, now=1.0)
        assert len(statements) == 1
        statements.clear()
        assert store.rotate(_rotation("j1", "j2", now=1.0)).status == "rotated"
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    # SQLite takes its write lock with an UPDATE first: it has no SELECT ... FOR UPDATE.
    expected = 4 if database.kind == "sqlite" else 3
    assert len(statements) == expected
    if database.kind != "sqlite":
        assert "FOR UPDATE" in statements[0]


def test_one_store_with_both_engines(engine: sa.Engine, database: SqlDatabase) -> None:
    """A sync engine paired with an async one serves both APIs on the same rows."""
    import asyncio

    async_engine = build_async_engine(database.async_url, pool_size=2)
    store = SQLTokenStore(engine, async_engine=async_engine)
    service = TokenService(_key(), store=store, refresh_grace=0)
    pair = service.issue_pair("u1")

    async def use_async() -> None:
        refreshed = await service.arefresh(pair.refresh_token)
        assert refreshed.session_id == pair.session_id
        await async_engine.dispose()

    asyncio.run(use_async())
    with pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token)  # retired by the async refresh: reuse
    service.ensure_available()


async def test_one_sided_stores_refuse_the_other_side(engine: sa.Engine, async_engine: Any) -> None:
    """A store with only a sync (or only an async) engine says so."""
    sync_only = TokenService(_key(), store=SQLTokenStore(engine))
    async_only = TokenService(_key(), store=SQLTokenStore(async_engine))
    with pytest.raises(ConfigurationError, match="no async engine"):
        await sync_only.aissue_pair("u1")
    with pytest.raises(ConfigurationError, match="no sync engine"):
        async_only.issue_pair("u1")
    assert (await async_only.aissue_pair("u1")).session_id
    assert sync_only.issue_pair("u1").session_id


def _dead_engine(kind: str, tmp: Path, port: int, *, asynchronous: bool = False) -> Any:
    if kind == "sqlite":
        url = sa.make_url(f"sqlite:///{tmp / 'missing' / 'tokens.db'}")
        if asynchronous:
            url = url.set(drivername="sqlite+aiosqlite")
    else:
        driver = {"postgres": "postgresql+psycopg", "mysql": "mysql+pymysql"}[kind]
        if asynchronous:
            driver = {"postgres": "postgresql+asyncpg", "mysql": "mysql+asyncmy"}[kind]
        url = sa.make_url(f"{driver}://u@127.0.0.1:{port}/db")
    build = build_async_engine if asynchronous else build_engine
    return build(url, pool_size=1, connect_timeout=2.0)


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "mysql"])
def test_dead_database_fails_closed(
    kind: str, tmp_path: Path, dead_redis: DeadPort, fake_clock: FakeClock
) -> None:
    """Nothing answers: login, refresh, checks and revocation raise 503, never succeed."""
    pair = TokenService(_key(), clock=fake_clock).issue_pair("u1")  # a working memory store
    engine = _dead_engine(kind, tmp_path, dead_redis.port)
    store = SQLTokenStore(engine, clock=fake_clock)
    service = TokenService(_key(), store=store, clock=fake_clock)
    with capture_logs() as logs:
        for call in (
            service.ensure_available,
            lambda: service.issue_pair("u1"),
            lambda: service.refresh(pair.refresh_token),
            lambda: service.verify_access(pair.access_token, check_revoked=True),
            lambda: service.revoke(pair.refresh_token),
            lambda: service.revoke_user("u1"),
            store.purge_expired,
        ):
            with pytest.raises(BackendUnavailable) as refused:
                call()
            assert refused.value.status == 503
    assert "refresh_token_reuse" not in [e["event"] for e in logs]
    assert service.verify_access(pair.access_token).sub == "u1"  # stateless: no store
    engine.dispose()


# Not SQLite here: aiosqlite's worker thread, after failing to open the file, may post its
# result to the test's event loop once that loop has closed (an unraisable thread error).
@pytest.mark.parametrize("kind", ["postgres", "mysql"])
async def test_dead_database_fails_closed_async(
    kind: str, tmp_path: Path, dead_redis: DeadPort, fake_clock: FakeClock
) -> None:
    """The async API fails closed the same way."""
    pair = TokenService(_key(), clock=fake_clock).issue_pair("u1")
    engine = _dead_engine(kind, tmp_path, dead_redis.port, asynchronous=True)
    service = TokenService(_key(), store=SQLTokenStore(engine), clock=fake_clock)
    for call in (
        service.aensure_available,
        lambda: service.aissue_pair("u1"),
        lambda: service.arefresh(pair.refresh_token),
        lambda: service.averify_access(pair.access_token, check_revoked=True),
    ):
        with pytest.raises(BackendUnavailable):
            await call()
    await engine.dispose()


def test_a_failed_opportunistic_purge_is_logged_not_raised(
    tmp_path: Path, fake_clock: FakeClock
) -> None:
    """The login succeeded: a clean-up that fails afterwards is a warning, not an error."""
    url = sa.make_url(f"sqlite:///{tmp_path / 'tokens.db'}")
    engine = build_engine(url, pool_size=1)
    token_sessions_table.create(engine)  # only the sessions table: the purge's next DELETE fails
    store = SQLTokenStore(engine, clock=fake_clock)
    with capture_logs() as logs:
        store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    assert [e["event"] for e in logs if e["event"].startswith("token_store")] == [
        "token_store_purge_failed"
    ]
    with engine.connect() as conn:  # the session was recorded
        assert conn.execute(sa.select(token_sessions_table.c.sid)).scalars().all() == ["s1"]
    engine.dispose()


async def test_a_failed_opportunistic_purge_is_logged_not_raised_async(tmp_path: Path) -> None:
    """The async twin: the login succeeds, the failed clean-up is logged."""
    url = sa.make_url(f"sqlite:///{tmp_path / 'tokens.db'}")
    setup = build_engine(url, pool_size=1)
    token_sessions_table.create(setup)
    setup.dispose()
    engine = build_async_engine(url.set(drivername="sqlite+aiosqlite"), pool_size=1)
    store = SQLTokenStore(engine)
    with capture_logs() as logs:
        await store.acreate_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    assert "token_store_purge_failed" in [e["event"] for e in logs]
    await engine.dispose()


def test_configuration_is_checked(tmp_path: Path) -> None:
    """Anything but an engine, mixed databases, other dialects and bad intervals are refused."""
    sqlite_engine = build_engine(f"sqlite:///{tmp_path / 'a.db'}", pool_size=1)
    with pytest.raises(ConfigurationError, match="needs a SQLAlchemy Engine"):
        SQLTokenStore("sqlite:///tokens.db")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="purge_interval"):
        SQLTokenStore(sqlite_engine, purge_interval=0)
    pg = build_async_engine("postgresql+asyncpg://u@127.0.0.1:1/db")
    with pytest.raises(ConfigurationError, match="same database"):
        SQLTokenStore(sqlite_engine, async_engine=pg)
    other = build_engine(f"sqlite:///{tmp_path / 'b.db'}", pool_size=1)
    other.dialect.name = "oracle"  # a dialect the store builds no statements for
    with pytest.raises(ConfigurationError, match="PostgreSQL, MySQL/MariaDB and SQLite"):
        SQLTokenStore(other)
    # Valid twin: a SQLite engine with a positive interval.
    assert repr(SQLTokenStore(sqlite_engine, purge_interval=1)) == "SQLTokenStore(dialect='sqlite')"
    for engine in (sqlite_engine, other):
        engine.dispose()


def test_racing_revocations_of_a_new_user_all_land(database: SqlDatabase) -> None:
    """20 threads revoke one user at once: none fails, the cut-off is the latest time."""
    import threading

    engine = build_engine(database.url, pool_size=20, max_overflow=5)
    store = SQLTokenStore(engine)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            store.revoke_user("racer", now=float(i), until=1000.0 + i)
            store.revoke_token("racer", "j", expires_at=500.0 + i, now=0.0)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with engine.connect() as conn:
        cutoff = conn.execute(
            sa.select(token_user_cutoffs_table.c.not_before, token_user_cutoffs_table.c.expires_at)
        ).one()
        denied = conn.execute(sa.select(token_denied_table.c.expires_at)).scalar_one()
    engine.dispose()
    database.clear()
    assert errors == []
    assert tuple(cutoff) == (19.0, 1019.0)
    assert denied == 519.0


def test_ids_are_compared_exactly(engine: sa.Engine) -> None:
    """Users whose ids differ only by case are different users, on every database."""
    store = SQLTokenStore(engine)
    store.create_session(NewSession("Alice", "s1", "j1", now=0.0, expires_at=100.0))
    store.create_session(NewSession("alice", "s1", "j1", now=0.0, expires_at=100.0))
    store.revoke_user("alice", now=1.0, until=100.0)
    assert store.check("alice", None, "s1", 0.0, now=2.0) == "session_revoked"
    assert store.check("Alice", None, "s1", 0.0, now=2.0) is None
    assert store.check("Alice", None, None, 0.0, now=2.0) is None
    assert store.rotate(
        RotationRequest("Alice", "s1", "j1", "j2", "{}", 2.0, 5.0, 100.0)
    ).status == ("rotated")
