"""A fresh database per test module for the SQL token store, on each backend.

SQLite: a file in a temporary directory. PostgreSQL and MariaDB: a uniquely named database
on the shared server, created with the token tables and dropped afterwards. Rows are
deleted after each test, so every test starts from empty tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from tests.integration.repository.conftest import MYSQL, POSTGRES

from backendkit.auth.sql import (
    auth_metadata,
    token_denied_table,
    token_sessions_table,
    token_user_cutoffs_table,
)
from backendkit.repository import build_engine

KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgres": "postgresql+asyncpg"}
TABLES = (token_sessions_table, token_denied_table, token_user_cutoffs_table)


@dataclass
class SqlDatabase:
    """One database with the token tables: its sync and async URLs, and a setup engine."""

    kind: str
    url: sa.URL
    async_url: sa.URL
    setup: sa.Engine

    def clear(self) -> None:
        with self.setup.begin() as conn:
            for table in TABLES:
                conn.execute(table.delete())

    def count(self, table: sa.Table) -> int:
        with self.setup.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _quoted(admin: sa.Engine, name: str) -> str:
    return admin.dialect.identifier_preparer.quote_identifier(name)


def sql_database(kind: str, tmp: Path) -> Iterator[SqlDatabase]:
    """Create the database and its tables; drop it after."""
    if kind == "sqlite":
        url = make_url(f"sqlite:///{tmp / 'tokens.db'}")
        setup = build_engine(url, pool_size=1)
        auth_metadata.create_all(setup)
        try:
            yield SqlDatabase(kind, url, url.set(drivername=_ASYNC_DRIVERS[kind]), setup)
        finally:
            setup.dispose()
        return
    base = make_url(POSTGRES.require() if kind == "postgres" else MYSQL.require())
    admin = build_engine(base, pool_size=1, isolation_level="AUTOCOMMIT")
    name = f"bk_tokens_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {_quoted(admin, name)}"))
    url = base.set(database=name)
    setup = build_engine(url, pool_size=1)
    try:
        auth_metadata.create_all(setup)
        driver = _ASYNC_DRIVERS.get(kind, "mysql+asyncmy")
        yield SqlDatabase(kind, url, url.set(drivername=driver), setup)
    finally:
        setup.dispose()
        force = " WITH (FORCE)" if kind == "postgres" else ""
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {_quoted(admin, name)}{force}"))
        admin.dispose()
