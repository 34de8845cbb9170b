"""Read replicas: routing between two real databases standing in for primary and replica.

Nothing replicates between them: each holds a row the other lacks, so every read shows
which database answered. This proves the routing (reads, writes, units of work,
read-your-writes, the fallback when the replica is down), not replication itself.
Backends: SQLite files (sync and aiosqlite), two PostgreSQL databases (psycopg, asyncpg)
and two MariaDB databases (PyMySQL, asyncmy).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import QueuePool
from tests._services import DeadPort
from tests.integration.repository.conftest import MYSQL, POSTGRES, aw

from backendkit.cache import Cache
from backendkit.errors import BackendUnavailable, ConfigurationError
from backendkit.listing import PageParams
from backendkit.logging import request_context
from backendkit.repository import (
    AsyncRepository,
    AsyncUnitOfWork,
    Repository,
    UnitOfWork,
    build_async_engine,
    build_async_session_factory,
    build_engine,
    build_session_factory,
    read_your_writes,
    replica_safe,
)
from backendkit.testing import FakeClock, capture_logs

PRIMARY_ROW, REPLICA_ROW = 2000, 1000


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Note(Base):
    __tablename__ = "bk_replica_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(sa.String(40))


class Notes(Repository[Note]):
    pass


class AsyncNotes(AsyncRepository[Note]):
    pass


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("aiosqlite", id="aiosqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("asyncpg", id="asyncpg", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    pytest.param("asyncmy", id="asyncmy", marks=pytest.mark.mysql),
]


@dataclass
class Pair:
    """Two databases of one backend: the URLs the app uses, and sync engines for checks."""

    kind: str
    primary_url: sa.URL
    replica_url: sa.URL
    primary: sa.Engine
    replica: sa.Engine

    @property
    def is_async(self) -> bool:
        return self.kind in _ASYNC_DRIVERS

    def down_url(self, tmp: Path, port: int) -> sa.URL:
        """A replica URL nothing answers on: a closed ``port``, or a file in a missing folder."""
        if self.kind in ("sqlite", "aiosqlite"):
            return self.replica_url.set(database=str(tmp / "missing" / "replica.db"))
        return self.replica_url.set(host="127.0.0.1", port=port)


_ASYNC_DRIVERS = {
    "aiosqlite": "sqlite+aiosqlite",
    "asyncpg": "postgresql+asyncpg",
    "asyncmy": "mysql+asyncmy",
}
_SYNC_DRIVERS = {
    "sqlite+aiosqlite": "sqlite",
    "postgresql+asyncpg": "postgresql+psycopg",
    "mysql+asyncmy": "mysql+pymysql",
}


def _admin(kind: str) -> sa.Engine:
    """An engine on the server's own database, for CREATE and DROP DATABASE."""
    url = POSTGRES.require() if kind in ("postgres", "asyncpg") else MYSQL.require()
    return build_engine(url, pool_size=1, isolation_level="AUTOCOMMIT")


def _create_database(admin: sa.Engine, name: str) -> None:
    quoted = admin.dialect.identifier_preparer.quote_identifier(name)
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quoted}"))


def _drop_database(admin: sa.Engine, name: str) -> None:
    quoted = admin.dialect.identifier_preparer.quote_identifier(name)
    force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}{force}"))


def _databases(kind: str, tmp: Path) -> Iterator[tuple[sa.URL, sa.URL]]:
    if kind in ("sqlite", "aiosqlite"):
        driver = _ASYNC_DRIVERS.get(kind, "sqlite")
        yield (
            make_url(f"{driver}:///{tmp / 'primary.db'}"),
            make_url(f"{driver}:///{tmp / 'replica.db'}"),
        )
        return
    admin = _admin(kind)
    suffix = uuid.uuid4().hex[:10]
    names = [f"bk_primary_{suffix}", f"bk_replica_{suffix}"]
    try:
        for name in names:
            _create_database(admin, name)
        driver = _ASYNC_DRIVERS.get(kind, admin.url.drivername)
        urls = [admin.url.set(drivername=driver, database=name) for name in names]
        yield urls[0], urls[1]
    finally:
        for name in names:
            _drop_database(admin, name)
        admin.dispose()


def _sync(url: sa.URL) -> sa.URL:
    return url.set(drivername=_SYNC_DRIVERS.get(url.drivername, url.drivername))


def _seed(engine: sa.Engine, row: int = REPLICA_ROW, *, dispose: bool = True) -> None:
    """The notes table with its one seed row."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(Note).values(id=row, body="seed"))
    if dispose:
        engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Primary and replica databases with the notes table, one row each of their own."""
    kind: str = request.param
    for primary_url, replica_url in _databases(kind, tmp_path_factory.mktemp("replicas")):
        primary, replica = build_engine(_sync(primary_url)), build_engine(_sync(replica_url))
        _seed(primary, PRIMARY_ROW, dispose=False)
        _seed(replica, REPLICA_ROW, dispose=False)
        try:
            yield Pair(kind, primary_url, replica_url, primary, replica)
        finally:
            primary.dispose()
            replica.dispose()


@pytest.fixture(autouse=True)
def _fresh_rows(pair: Pair) -> Iterator[None]:
    """Each test starts from the two seed rows."""
    yield
    for engine, row in ((pair.primary, PRIMARY_ROW), (pair.replica, REPLICA_ROW)):
        with engine.begin() as conn:
            conn.execute(sa.delete(Note).where(Note.id != row))


class App:
    """What an application builds: a primary engine, a read engine, one session factory."""

    def __init__(
        self,
        pair: Pair,
        replica_url: sa.URL | None = None,
        replica_pool: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        self.is_async = pair.is_async
        url = pair.replica_url if replica_url is None else replica_url
        build = build_async_engine if self.is_async else build_engine
        self.engines = [
            build(pair.primary_url),
            build(url, connect_timeout=2, **(replica_pool or {})),
        ]
        factory = build_async_session_factory if self.is_async else build_session_factory
        self.sessions = factory(self.engines[0], read_engine=self.engines[1], **options)

    def repo(self, session: Any) -> Any:
        return AsyncNotes(session) if self.is_async else Notes(session)

    async def ids(self, session: Any = None) -> list[int]:
        """The ids a fresh (or the given) session reads outside a unit of work."""
        if session is not None:
            return [note.id for note in await aw(self.repo(session).list(sort=None))]
        own = self.sessions()
        try:
            return await self.ids(own)
        finally:
            await aw(own.close())

    async def create(self, note_id: int) -> None:
        """Insert a note in a unit of work (a write, committed to the primary)."""
        if self.is_async:
            async with AsyncUnitOfWork(self.sessions) as auow:
                await AsyncNotes(auow.session).create({"id": note_id, "body": "new"})
        else:
            with UnitOfWork(self.sessions) as uow:
                Notes(uow.session).create({"id": note_id, "body": "new"})

    async def close(self) -> None:
        for engine in self.engines:
            await aw(engine.dispose())


@pytest.fixture
async def app(pair: Pair) -> Any:
    built = App(pair)
    yield built
    await built.close()


async def test_reads_go_to_the_replica(app: App) -> None:
    """Outside a unit of work and before any write, every read is the replica's."""
    assert await app.ids() == [REPLICA_ROW]
    session = app.sessions()
    try:
        repo = app.repo(session)
        assert (await aw(repo.get_or_none(REPLICA_ROW))).id == REPLICA_ROW
        assert await aw(repo.get_or_none(PRIMARY_ROW)) is None
        assert await aw(repo.count()) == 1
        assert await aw(repo.exists(Note.id == REPLICA_ROW)) is True
    finally:
        await aw(session.close())


async def test_writes_and_units_of_work_use_the_primary(app: App, pair: Pair) -> None:
    """A unit of work reads and writes the primary; the replica never sees the write."""
    if app.is_async:
        async with AsyncUnitOfWork(app.sessions) as auow:
            assert await app.ids(auow.session) == [PRIMARY_ROW]
            await AsyncNotes(auow.session).create({"id": 1, "body": "new"})
            assert await app.ids(auow.session) == [1, PRIMARY_ROW]
    else:
        with UnitOfWork(app.sessions) as uow:
            assert await app.ids(uow.session) == [PRIMARY_ROW]
            Notes(uow.session).create({"id": 1, "body": "new"})
            assert await app.ids(uow.session) == [1, PRIMARY_ROW]
    with pair.primary.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Note)) == 2
    with pair.replica.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(Note)) == 1
    assert await app.ids() == [REPLICA_ROW]  # outside any scope: the replica again


async def test_a_session_that_wrote_reads_the_primary(app: App) -> None:
    """Without a scope, the session that flushed a write reads the primary; others do not."""
    session, other = app.sessions(), app.sessions()
    try:
        assert await app.ids(session) == [REPLICA_ROW]
        await aw(app.repo(session).create({"id": 2, "body": "new"}))  # flushed, not committed
        assert await app.ids(session) == [2, PRIMARY_ROW]
        assert await app.ids(other) == [REPLICA_ROW]
        await aw(session.rollback())
        assert await app.ids(session) == [PRIMARY_ROW]  # still the primary: it wrote
    finally:
        await aw(session.close())
        await aw(other.close())


async def test_read_your_writes_block(app: App) -> None:
    """After a write in a read_your_writes() block, every session of the block reads the
    primary; the same reads before the write, and after the block, read the replica."""
    with read_your_writes():
        assert await app.ids() == [REPLICA_ROW]
        await app.create(3)
        assert await app.ids() == [3, PRIMARY_ROW]
    assert await app.ids() == [REPLICA_ROW]


async def test_requests_are_scoped_by_their_request_id(app: App) -> None:
    """Without a block, a request's write sends its later reads to the primary; the next
    request in the same context (a worker thread's) reads the replica again."""
    with request_context(request_id="req-1"):
        await app.create(4)
        assert await app.ids() == [4, PRIMARY_ROW]
    with request_context(request_id="req-2"):
        assert await app.ids() == [REPLICA_ROW]
    assert await app.ids() == [REPLICA_ROW]  # no request, no block: the replica


async def test_a_raw_statement_counts_as_a_write(app: App) -> None:
    """A text() statement goes to the primary and pins the scope (it may write)."""
    with read_your_writes():
        session = app.sessions()
        try:
            await aw(session.execute(sa.text("SELECT 1")))
        finally:
            await aw(session.close())
        assert await app.ids() == [PRIMARY_ROW]


async def test_estimated_counts_read_the_replica(app: App, pair: Pair) -> None:
    """A page with an estimated count (PostgreSQL's EXPLAIN) is a read: the replica's rows,
    and the scope stays free to read the replica."""
    with pair.replica.begin() as conn:
        conn.execute(sa.insert(Note), [{"id": i, "body": "r"} for i in (1, 2, 3)])
    with read_your_writes():
        session = app.sessions()
        try:
            repo = app.repo(session)
            page = await aw(repo.list_page(PageParams(per_page=2), count="estimated"))
            assert [note.id for note in page.items] == [1, 2]
            assert page.total is not None
            assert page.total >= 3
        finally:
            await aw(session.close())
        assert await app.ids() == [1, 2, 3, REPLICA_ROW]
        assert replica_safe() is True


async def test_an_explicit_bind_is_kept(app: App) -> None:
    """bind_arguments={"bind": engine} wins over the routing."""
    session = app.sessions()
    primary = app.engines[0]
    bind = primary.sync_engine if app.is_async else primary
    try:
        result = await aw(session.execute(sa.select(Note.id), bind_arguments={"bind": bind}))
        assert result.scalars().all() == [PRIMARY_ROW]
    finally:
        await aw(session.close())


async def test_replica_down_falls_back_to_the_primary(pair: Pair, tmp_path: Path) -> None:
    """A replica that refuses connections: reads are the primary's, one warning per
    interval (not per read); after the interval one read tries the replica again."""
    clock = FakeClock()
    dead = DeadPort()
    app = App(pair, pair.down_url(tmp_path, dead.port), replica_retry_interval=30, clock=clock)
    try:
        with capture_logs() as logs:
            for _ in range(3):
                assert await app.ids() == [PRIMARY_ROW]
            clock.advance(30)
            assert await app.ids() == [PRIMARY_ROW]
        warnings = [log for log in logs if log["event"] == "replica_unavailable"]
        assert len(warnings) == 2
        assert warnings[0]["log_level"] == "warning"
        assert warnings[0]["fallback"] == "primary"
        assert str(dead.port) not in str(warnings)
    finally:
        await app.close()
        dead.close()


async def test_replica_back_up_is_used_again(pair: Pair, tmp_path: Path) -> None:
    """A replica that did not exist yet is tried once per interval; once it exists, reads
    go there again (the recovery logged once)."""
    clock = FakeClock()
    late_url, bring_up, tear_down = _late_replica(pair, tmp_path)
    app = App(pair, late_url, replica_retry_interval=30, clock=clock)
    try:
        with capture_logs() as logs:
            assert await app.ids() == [PRIMARY_ROW]
            bring_up()
            assert await app.ids() == [PRIMARY_ROW]  # not tried again within the interval
            clock.advance(30)
            assert await app.ids() == [REPLICA_ROW]
            assert await app.ids() == [REPLICA_ROW]
        events = [log["event"] for log in logs]
        assert events == ["replica_unavailable", "replica_recovered"]
    finally:
        await app.close()
        tear_down()


def _late_replica(pair: Pair, tmp: Path) -> tuple[sa.URL, Any, Any]:
    """A replica URL that fails until ``bring_up()`` creates its database and seed row."""
    if pair.kind in ("sqlite", "aiosqlite"):
        folder = tmp / "late"
        url = pair.replica_url.set(database=str(folder / "replica.db"))

        def make_file() -> None:
            folder.mkdir()
            _seed(build_engine(_sync(url)))

        return url, make_file, lambda: None
    name = f"{pair.replica_url.database}_late"
    admin = _admin(pair.kind)

    def create() -> None:
        _create_database(admin, name)
        _seed(build_engine(_sync(pair.replica_url.set(database=name))))

    def drop() -> None:
        _drop_database(admin, name)
        admin.dispose()

    return pair.replica_url.set(database=name), create, drop


async def test_a_busy_replica_is_not_down(pair: Pair) -> None:
    """A replica whose pool is exhausted fails the read with SERVICE_UNAVAILABLE (its pool
    timeout), and is not marked down: the next read, once a connection is free, uses it."""
    app = App(pair, replica_pool={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.1})
    replica = app.engines[1]
    try:
        pool = replica.sync_engine.pool if app.is_async else replica.pool
        if not isinstance(pool, QueuePool):  # aiosqlite files before SQLAlchemy 2.0.38
            pytest.skip(f"{type(pool).__name__} has no size limit to exhaust")
        held = await aw(replica.connect())
        try:
            with capture_logs() as logs, pytest.raises(BackendUnavailable):
                await app.ids()
        finally:
            await aw(held.close())
        assert await app.ids() == [REPLICA_ROW]
        assert [log for log in logs if log["event"] == "replica_unavailable"] == []
    finally:
        await app.close()


async def test_a_replica_of_another_database_is_refused(pair: Pair, tmp_path: Path) -> None:
    """A read engine of another dialect is a ConfigurationError; the same dialect is not."""
    if pair.kind in ("sqlite", "aiosqlite"):
        pytest.skip("needs two dialects: a server primary and a SQLite replica")
    other = (
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
        if pair.is_async
        else f"sqlite:///{tmp_path / 'x.db'}"
    )
    build = build_async_engine if pair.is_async else build_engine
    factory = build_async_session_factory if pair.is_async else build_session_factory
    primary, sqlite, replica = build(pair.primary_url), build(other), build(pair.replica_url)
    try:
        with pytest.raises(ConfigurationError, match="same database"):
            factory(primary, read_engine=sqlite)
        with pytest.raises(ValueError, match="positive"):
            factory(primary, read_engine=replica, replica_retry_interval=0)
        assert factory(primary, read_engine=replica).kw["replica"].engine is not None
    finally:
        for engine in (primary, sqlite, replica):
            await aw(engine.dispose())


@pytest.mark.parametrize("condition", [None, replica_safe], ids=["by-default", "condition"])
async def test_cache_is_not_filled_from_a_read_that_may_lag_a_write(
    app: App, condition: Any
) -> None:
    """A load that read the replica while its scope wrote (concurrently, in another task)
    is returned but not stored, with no condition given (the cache asks the scope itself)
    or with ``replica_safe`` as one; the same load in a scope that did not write is stored."""
    cache = Cache("memory://")
    loaded = asyncio.Event()
    written = asyncio.Event()
    pause = [False]

    @cache.cached(ttl=60, condition=condition)
    async def note_ids() -> list[int]:
        ids = await app.ids()
        if pause[0]:
            loaded.set()
            await written.wait()  # the other task writes meanwhile
        return ids

    async def write() -> None:
        await loaded.wait()
        await app.create(5)
        written.set()

    try:
        with read_your_writes():
            pause[0] = True
            ids, _ = await asyncio.gather(note_ids(), write())
            assert ids == [REPLICA_ROW]  # returned to its caller as read
            assert replica_safe() is False
        pause[0] = False
        assert (await note_ids.call_detailed()).outcome.name == "LOADED"  # nothing was stored
        await note_ids.invalidate()
        with read_your_writes():
            assert await note_ids() == [REPLICA_ROW]
            assert replica_safe() is True
        assert (await note_ids.call_detailed()).outcome.name == "HIT"
    finally:
        await cache.aclose()
