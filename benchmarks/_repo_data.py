"""The repository benchmark's table, its repositories and a loaded copy on each database.

``database(kind, rows)`` loads ``rows`` rows into a private namespace and drops it at the
end: a PostgreSQL schema (COPY), a MariaDB database (multi-row INSERTs) or a SQLite file
(one executemany). It yields the sync engine and what an async engine on the same data
needs (asyncpg, asyncmy, aiosqlite).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.repository import AsyncRepository, FilterField, Repository, build_engine

POSTGRES_URL = os.environ.get(
    "BACKENDKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("BACKENDKIT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
BASE_TIME = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
#: The asyncio driver of each database's async rows.
ASYNC_DRIVERS = {"postgres": "asyncpg", "mariadb": "asyncmy", "sqlite": "aiosqlite"}
_INSERT_BATCH = 10_000


class Base(DeclarativeBase):
    metadata = sa.MetaData()


class Row(Base):
    __tablename__ = "bench_rows"
    __table_args__ = (
        sa.Index("ix_bench_created_id", "created_at", "id"),
        sa.Index("ix_bench_score_id", "score", "id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40))
    category: Mapped[str] = mapped_column(sa.String(10))
    score: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


_FILTERS: dict[str, Any] = {
    "score": FilterField(Row.score, "eq", "gte", "lte"),
    "category": Row.category,
}
_SORTS: dict[str, Any] = {"createdAt": Row.created_at, "score": Row.score}


class RowRepository(Repository[Row]):
    filter_fields: ClassVar[dict[str, Any]] = _FILTERS
    sort_fields: ClassVar[dict[str, Any]] = _SORTS
    max_offset = None


class AsyncRowRepository(AsyncRepository[Row]):
    filter_fields: ClassVar[dict[str, Any]] = _FILTERS
    sort_fields: ClassVar[dict[str, Any]] = _SORTS
    max_offset = None


@dataclass
class Loaded:
    """A loaded table: the sync engine, and the URL and connect args of an async one."""

    engine: sa.Engine
    async_url: sa.URL
    async_connect_args: dict[str, Any] = field(default_factory=dict)


def _rows(count: int, *, naive: bool = False) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(42)
    base = BASE_TIME.replace(tzinfo=None) if naive else BASE_TIME
    for i in range(1, count + 1):
        score = None if rng.random() < 0.1 else rng.randrange(1000)
        # Three rows share each timestamp: ties the primary key must break.
        yield (i, f"user{i}", "abc"[i % 3], score, base + dt.timedelta(seconds=i // 3))


@contextmanager
def database(kind: str, rows: int) -> Iterator[Loaded]:
    """A loaded, analysed table on ``kind`` (postgres, mariadb, sqlite), dropped at the end."""
    loaders = {"postgres": _postgres, "mariadb": _mariadb, "sqlite": _sqlite}
    with loaders[kind](rows) as loaded:
        yield loaded


@contextmanager
def _postgres(rows: int) -> Iterator[Loaded]:
    schema = f"bk_bench_{uuid.uuid4().hex[:8]}"
    admin = build_engine(POSTGRES_URL, pool_size=1, statement_timeout=None)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = build_engine(
        POSTGRES_URL,
        pool_size=2,
        statement_timeout=None,
        connect_args={"options": f"-c search_path={schema}"},
    )
    try:
        Base.metadata.create_all(engine)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            copy_sql = "COPY bench_rows (id, name, category, score, created_at) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in _rows(rows):
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # Statistics and the visibility map now, so autovacuum does not run mid-benchmark.
            conn.exec_driver_sql("VACUUM ANALYZE bench_rows")
        async_url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg")
        yield Loaded(engine, async_url, {"server_settings": {"search_path": schema}})
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def _mariadb(rows: int) -> Iterator[Loaded]:
    name = f"bk_bench_{uuid.uuid4().hex[:8]}"
    admin = build_engine(MYSQL_URL, pool_size=1, statement_timeout=None)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    url = sa.make_url(MYSQL_URL).set(database=name)
    engine = build_engine(url, pool_size=2, statement_timeout=None)
    try:
        Base.metadata.create_all(engine)
        insert = "INSERT INTO bench_rows (id, name, category, score, created_at) VALUES "
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            batch: list[tuple[Any, ...]] = []
            # PyMySQL sends an executemany INSERT as multi-row statements; DATETIME is naive.
            for row in _rows(rows, naive=True):
                batch.append(row)
                if len(batch) == _INSERT_BATCH:
                    cursor.executemany(insert + "(%s, %s, %s, %s, %s)", batch)
                    batch.clear()
            if batch:
                cursor.executemany(insert + "(%s, %s, %s, %s, %s)", batch)
            raw.commit()
        finally:
            raw.close()
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE TABLE bench_rows")
        yield Loaded(engine, url.set(drivername="mysql+asyncmy"))
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()


@contextmanager
def _sqlite(rows: int) -> Iterator[Loaded]:
    folder = tempfile.mkdtemp(prefix="bk-bench-")
    path = Path(folder) / "bench.db"
    engine = build_engine(f"sqlite:///{path}", pool_size=2)
    try:
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(
                Row.__table__.insert(),
                [
                    {"id": i, "name": n, "category": c, "score": s, "created_at": t}
                    for i, n, c, s, t in _rows(rows)
                ],
            )
            conn.exec_driver_sql("ANALYZE")
        yield Loaded(engine, sa.make_url(f"sqlite+aiosqlite:///{path}"))
    finally:
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.rmdir(folder)
