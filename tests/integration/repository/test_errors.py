"""Database errors reach clients as Conflict / SERVICE_UNAVAILABLE / INTERNAL_ERROR, never SQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, PARENTS, Child

from backendkit.errors import BackendUnavailable, Conflict, InternalError
from backendkit.repository import build_async_engine, build_engine


def _no_internals(error: Exception, *secrets: str) -> None:
    text = f"{error} {getattr(error, 'details', '')}"
    for word in ("INSERT", "SELECT", "bk_items", "bk_children", *secrets):
        assert word not in text


async def test_unique_violation_names_the_field(db: Db) -> None:
    """A duplicate unique value is a Conflict on that field, without the value."""
    repo = db.repo(ITEMS)
    await aw(repo.create({"name": "a", "sku": "secret-sku"}))
    with pytest.raises(Conflict) as info:
        await aw(repo.create({"name": "b", "sku": "secret-sku"}))
    assert [d.field for d in info.value.details] == ["sku"]
    assert info.value.message == "A record with this sku already exists"
    _no_internals(info.value, "secret-sku")


async def test_not_null_violation_names_the_field(db: Db) -> None:
    """A missing required value is a Conflict naming the field."""
    with pytest.raises(Conflict) as info:
        await aw(db.repo(ITEMS).create({"sku": "x"}))
    assert [d.field for d in info.value.details] == ["name"]
    _no_internals(info.value)


async def test_foreign_key_violation_is_a_conflict(db: Db) -> None:
    """A reference to a missing row is a Conflict (naming the field where the DB says)."""
    await aw(db.repo(PARENTS).create({"name": "p"}))
    db.session.add(Child(parent_id=10**6, name="orphan"))
    with pytest.raises(Conflict) as info:
        await aw(db.repo(PARENTS).create({"name": "q"}))
    if db.dialect != "sqlite":  # SQLite does not say which column
        assert [d.field for d in info.value.details] == ["parentId"]
    _no_internals(info.value)


async def test_check_violation_is_a_conflict(db: Db) -> None:
    """A CHECK constraint failure is a Conflict."""
    with pytest.raises(Conflict) as info:
        await aw(db.repo(ITEMS).create({"name": "a", "sku": "a", "price": -1}))
    _no_internals(info.value)


async def test_unreachable_database_is_service_unavailable(db: Db) -> None:
    """A database that cannot be reached is SERVICE_UNAVAILABLE, not a 500."""
    if db.dialect == "sqlite":
        url = sa.make_url(str(db.database.url).rsplit("/", 1)[0] + "/missing-dir/x/db.sqlite")
    else:
        url = db.database.url.set(host="127.0.0.1", port=1)
    engine = (
        build_async_engine(url, connect_timeout=2)
        if db.is_async
        else build_engine(url, connect_timeout=2)
    )
    session = type(db.session)(engine)
    try:
        with pytest.raises(BackendUnavailable) as info:
            await aw(db.repo(ITEMS, session).count())
        assert info.value.status == 503
    finally:
        await aw(session.close())
        await aw(engine.dispose())


async def test_statement_timeout_is_service_unavailable(db: Db) -> None:
    """A statement cut off by the configured timeout is SERVICE_UNAVAILABLE."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite has no statement timeout")
    await aw(db.repo(ITEMS).create({"name": "a", "sku": "a"}))
    await db.commit()
    sleep = sa.func.pg_sleep(2) if db.dialect == "postgresql" else sa.func.sleep(2)
    build = build_async_engine if db.is_async else build_engine
    engine = build(db.database.url, statement_timeout=0.05, connect_args=db.database.connect_args)
    session = type(db.session)(engine)
    try:
        with pytest.raises(BackendUnavailable):
            await aw(db.repo(ITEMS, session).count(sleep.is_not(None)))
    finally:
        await aw(session.close())
        await aw(engine.dispose())


async def test_programming_errors_are_internal_errors(db: Db) -> None:
    """A broken query is an INTERNAL_ERROR with the generic message."""
    with pytest.raises(InternalError) as info:
        await aw(db.repo(ITEMS).count(sa.text("no_such_column = 1")))
    assert info.value.message == "An unexpected error occurred"
    _no_internals(info.value, "no_such_column")
