"""One suite, every database: SQLite, PostgreSQL (psycopg) and MariaDB (pymysql) sync;
SQLite (aiosqlite), PostgreSQL (asyncpg) and MariaDB (asyncmy) async.

Each test module gets its own PostgreSQL schema or MariaDB database (created here, dropped
after the module) and a private SQLite file; rows are deleted after each test. Tests are
``async`` and call repository methods through ``aw()``, which awaits async results, so the
same test body runs against ``Repository`` and ``AsyncRepository``.
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from tests._services import DEFAULT_MYSQL_URL, DEFAULT_POSTGRES_URL, ServiceProbe
from tests.integration.repository.models import TABLES, Base

from backendkit.listing import CursorCodec
from backendkit.repository import (
    AsyncUnitOfWork,
    UnitOfWork,
    build_async_engine,
    build_async_session_factory,
    build_engine,
    build_session_factory,
)

POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)
MYSQL = ServiceProbe("MariaDB/MySQL", "BACKENDKIT_TEST_MYSQL_URL", DEFAULT_MYSQL_URL, 3306)

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    pytest.param("aiosqlite", id="aiosqlite"),
    pytest.param("asyncpg", id="asyncpg", marks=pytest.mark.postgres),
    pytest.param("asyncmy", id="asyncmy", marks=pytest.mark.mysql),
]

CODEC = CursorCodec([b"repository-tests-key-0123456789"])


async def aw(value: Any) -> Any:
    """Await ``value`` if it is awaitable (async repository), else return it (sync)."""
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass
class Database:
    """An isolated namespace on one backend, with a sync engine for setup and cleanup."""

    kind: str
    url: sa.URL
    connect_args: dict[str, Any]
    setup: sa.Engine

    @property
    def is_async(self) -> bool:
        return self.kind in ("aiosqlite", "asyncpg", "asyncmy")

    @property
    def dialect(self) -> str:
        return self.setup.dialect.name

    def clear(self) -> None:
        with self.setup.begin() as conn:
            for table in TABLES:
                conn.execute(table.delete())


def _namespace(kind: str, tmp: Path) -> tuple[sa.URL, dict[str, Any], sa.URL, dict[str, Any], Any]:
    """Return (setup url, setup args, test url, test connect args, teardown)."""
    name = f"bk_{uuid.uuid4().hex[:10]}"
    if kind in ("sqlite", "aiosqlite"):
        path = tmp / f"{name}.db"
        driver = "sqlite+aiosqlite" if kind == "aiosqlite" else "sqlite"
        return (
            make_url(f"sqlite:///{path}"),
            {},
            make_url(f"{driver}:///{path}"),
            {},
            lambda: None,
        )
    if kind in ("postgres", "asyncpg"):
        base = make_url(POSTGRES.require())
        admin = build_engine(base, pool_size=1)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
            admin.dispose()

        setup_args = {"options": f"-c search_path={name}"}
        if kind == "asyncpg":
            url = base.set(drivername="postgresql+asyncpg")
            return base, setup_args, url, {"server_settings": {"search_path": name}}, drop
        return base, setup_args, base, setup_args, drop
    base = make_url(MYSQL.require())
    admin = build_engine(base, pool_size=1)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))

    def drop_db() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()

    url = base.set(database=name)
    if kind == "asyncmy":
        return url, {}, url.set(drivername="mysql+asyncmy"), {}, drop_db
    return url, {}, url, {}, drop_db


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A fresh namespace with the test tables on one backend, for one module."""
    kind: str = request.param
    setup_url, setup_args, url, connect_args, teardown = _namespace(
        kind, tmp_path_factory.mktemp("repo")
    )
    setup = build_engine(setup_url, pool_size=1, connect_args=setup_args)
    try:
        Base.metadata.create_all(setup)
        yield Database(kind, url, connect_args, setup)
    finally:
        setup.dispose()
        teardown()


@dataclass
class Db:
    """What a test uses: sessions and repositories of the backend under test."""

    database: Database
    engine: Any
    factory: Any
    sessions: list[Any] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.database.kind

    @property
    def dialect(self) -> str:
        return self.database.dialect

    @property
    def is_async(self) -> bool:
        return self.database.is_async

    def new_session(self) -> Session | AsyncSession:
        session = self.factory()
        self.sessions.append(session)
        return session

    @property
    def session(self) -> Any:
        if not self.sessions:
            self.new_session()
        return self.sessions[0]

    def repo(self, pair: tuple[type[Any], type[Any]], session: Any = None, **kwargs: Any) -> Any:
        """The sync or async repository class of ``pair``, bound to a session."""
        cls = pair[1] if self.is_async else pair[0]
        kwargs.setdefault("cursor_codec", CODEC)
        return cls(session if session is not None else self.session, **kwargs)

    async def commit(self, session: Any = None) -> None:
        await aw((session or self.session).commit())

    async def rollback(self, session: Any = None) -> None:
        await aw((session or self.session).rollback())

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Any]:
        """``UnitOfWork`` or ``AsyncUnitOfWork`` on this backend, yielding the session."""
        if self.is_async:
            async with AsyncUnitOfWork(self.factory) as auow:
                yield auow.session
        else:
            with UnitOfWork(self.factory) as uow:
                yield uow.session

    def count_rows(self, table: sa.Table) -> int:
        """Rows in ``table`` as another connection sees them (committed data only)."""
        with self.database.setup.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


class StatementCounter:
    """Counts statements sent to the database (an engine event hook)."""

    def __init__(self, db: Db) -> None:
        self.engine = db.engine.sync_engine if db.is_async else db.engine
        self.statements: list[str] = []

    def _hook(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._hook)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._hook)


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Db]:
    """Engine, session factory and helpers for one test; rows are deleted afterwards."""
    if database.is_async:
        engine: Any = build_async_engine(
            database.url, pool_size=2, connect_args=database.connect_args
        )
        factory: Any = build_async_session_factory(engine)
    else:
        engine = build_engine(database.url, pool_size=2, connect_args=database.connect_args)
        factory = build_session_factory(engine)
    helper = Db(database, engine, factory)
    try:
        yield helper
    finally:
        for session in helper.sessions:
            await aw(session.close())
        await aw(engine.dispose())
        database.clear()
