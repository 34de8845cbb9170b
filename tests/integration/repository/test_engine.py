"""Engine and session-factory defaults, checked on the real databases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests.integration.repository.conftest import MYSQL, POSTGRES

from backendkit.repository import (
    build_async_engine,
    build_async_session_factory,
    build_engine,
    build_session_factory,
)


def test_sqlite_file_gets_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    """Every new SQLite connection runs the pragmas."""
    engine = build_engine(f"sqlite:///{tmp_path / 'app.db'}", sqlite_busy_timeout=2.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert engine.pool.size() == 5  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_in_memory_sqlite_skips_pool_sizing_and_wal() -> None:
    """In-memory SQLite uses its single-connection pool; foreign keys are still on."""
    engine = build_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
    finally:
        engine.dispose()


async def test_aiosqlite_gets_the_same_pragmas(tmp_path: Path) -> None:
    """The async SQLite engine runs the pragmas through the adapted connection."""
    engine = build_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()


@pytest.mark.postgres
def test_postgres_statement_timeout_and_pool() -> None:
    """psycopg connections carry statement_timeout; the pool has the given size."""
    engine = build_engine(POSTGRES.require(), pool_size=3, max_overflow=1, statement_timeout=12.5)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "12500ms"
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        assert engine.hide_parameters
    finally:
        engine.dispose()


@pytest.mark.postgres
async def test_asyncpg_statement_timeout() -> None:
    """asyncpg connections carry statement_timeout through server_settings."""
    url = sa.make_url(POSTGRES.require()).set(drivername="postgresql+asyncpg")
    engine = build_async_engine(url, statement_timeout=7)
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("SHOW statement_timeout")).scalar() == "7s"
    finally:
        await engine.dispose()


@pytest.mark.postgres
def test_statement_timeout_can_be_turned_off() -> None:
    """statement_timeout=None leaves the server default (0: none)."""
    engine = build_engine(POSTGRES.require(), statement_timeout=None)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_mariadb_statement_timeout() -> None:
    """MariaDB connections get max_statement_time (seconds)."""
    engine = build_engine(MYSQL.require(), statement_timeout=4)
    try:
        with engine.connect() as conn:
            assert float(conn.exec_driver_sql("SELECT @@max_statement_time").scalar()) == 4.0
    finally:
        engine.dispose()


@pytest.mark.mysql
async def test_asyncmy_statement_timeout() -> None:
    """asyncmy connections get max_statement_time from the same connect hook as PyMySQL's."""
    url = sa.make_url(MYSQL.require()).set(drivername="mysql+asyncmy")
    engine = build_async_engine(url, statement_timeout=3, connect_timeout=2)
    try:
        async with engine.connect() as conn:
            timeout = (await conn.exec_driver_sql("SELECT @@max_statement_time")).scalar()
            assert float(timeout) == 3.0
    finally:
        await engine.dispose()


def test_session_factories_keep_objects_after_commit(tmp_path: Path) -> None:
    """Both factories default to expire_on_commit=False; explicit options win."""
    engine = build_engine(f"sqlite:///{tmp_path / 's.db'}")
    async_engine = build_async_engine(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    try:
        assert build_session_factory(engine).kw["expire_on_commit"] is False
        assert build_async_session_factory(async_engine).kw["expire_on_commit"] is False
        assert build_session_factory(engine, expire_on_commit=True).kw["expire_on_commit"]
    finally:
        engine.dispose()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_pool_is_replaced_in_a_forked_child(tmp_path: Path) -> None:
    """After fork the child has a new pool; the parent's connection keeps working."""
    engine = build_engine(f"sqlite:///{tmp_path / 'f.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        parent_pool = id(engine.pool)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                with engine.connect() as conn:
                    ok = conn.exec_driver_sql("SELECT 1").scalar() == 1
                os.write(write, b"1" if ok and id(engine.pool) != parent_pool else b"0")
            finally:
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        assert os.read(read, 1) == b"1"
        os.close(read)
        assert os.WEXITSTATUS(status) == 0
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        assert id(engine.pool) == parent_pool
    finally:
        engine.dispose()
