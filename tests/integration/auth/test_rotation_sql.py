"""The rotation contract on the SQL token store: SQLite, PostgreSQL and MariaDB, sync and async.

The contract's concurrency tests refresh one token from 20 threads behind a barrier (sync)
or 20 gathered tasks (async), each on its own pooled connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from tests.integration.auth._sql_databases import KINDS, SqlDatabase, sql_database
from tests.unit.auth._rotation_contract import Driver, MakeDriver, RotationContract, key

from backendkit.auth import TokenService
from backendkit.auth.sql import SQLTokenStore
from backendkit.repository import build_async_engine, build_engine
from backendkit.testing import FakeClock

# Enough connections for every racing refresh to hold its own.
_POOL = {"pool_size": 20, "max_overflow": 5}


@pytest.fixture(scope="module", params=KINDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlDatabase]:
    yield from sql_database(request.param, tmp_path_factory.mktemp("tokens"))


@pytest.fixture(params=["sync", "async"])
async def make(
    request: pytest.FixtureRequest, database: SqlDatabase, fake_clock: FakeClock
) -> AsyncIterator[MakeDriver]:
    mode: str = request.param
    if mode == "sync":
        engine = build_engine(database.url, **_POOL)
        store = SQLTokenStore(engine, clock=fake_clock)
    else:
        async_engine = build_async_engine(database.async_url, **_POOL)
        store = SQLTokenStore(async_engine, clock=fake_clock)

    def _make(**options: Any) -> Driver:
        service = TokenService(key(), store=store, clock=fake_clock, **options)
        return Driver(service, fake_clock, asynchronous=mode == "async")

    yield _make
    if mode == "sync":
        engine.dispose()
    else:
        await async_engine.dispose()
    database.clear()


class TestRotationOnSQL(RotationContract):
    """Every rotation guarantee, shared by every worker through the database."""
