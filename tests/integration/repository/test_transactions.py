"""Units of work commit on success and leave nothing behind on failure, on every database."""

from __future__ import annotations

import pytest
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, NOTES, Item, Note

from backendkit.errors import Conflict
from backendkit.repository import AsyncUnitOfWork, UnitOfWork


async def test_success_commits_every_step(db: Db) -> None:
    """Both writes are visible to another connection after the block."""
    async with db.unit_of_work() as session:
        await aw(db.repo(ITEMS, session).create({"name": "a", "sku": "a"}))
        await aw(db.repo(NOTES, session).create({"title": "t"}))
    assert db.count_rows(Item.__table__) == 1
    assert db.count_rows(Note.__table__) == 1


async def test_an_exception_midway_rolls_everything_back(db: Db) -> None:
    """A failure after two flushed writes leaves no row behind."""

    async def work() -> None:
        async with db.unit_of_work() as session:
            await aw(db.repo(ITEMS, session).create({"name": "a", "sku": "a"}))
            await aw(db.repo(NOTES, session).create({"title": "t"}))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await work()
    assert db.count_rows(Item.__table__) == 0
    assert db.count_rows(Note.__table__) == 0


async def test_a_database_error_midway_rolls_everything_back(db: Db) -> None:
    """A constraint failure in step three undoes steps one and two, as a Conflict."""

    async def work() -> None:
        async with db.unit_of_work() as session:
            items = db.repo(ITEMS, session)
            await aw(items.create({"name": "a", "sku": "dup"}))
            await aw(db.repo(NOTES, session).create({"title": "t"}))
            await aw(items.create({"name": "b", "sku": "dup"}))

    with pytest.raises(Conflict):
        await work()
    assert db.count_rows(Item.__table__) == 0
    assert db.count_rows(Note.__table__) == 0


async def test_objects_are_usable_after_commit(db: Db) -> None:
    """expire_on_commit=False: attributes read after commit need no I/O (no MissingGreenlet)."""
    async with db.unit_of_work() as session:
        item = await aw(db.repo(ITEMS, session).create({"name": "kept", "sku": "k"}))
    assert (item.name, item.sku, item.id is not None) == ("kept", "k", True)


async def test_explicit_commit_and_rollback(db: Db) -> None:
    """commit() inside the block keeps earlier work even if a later step fails."""
    uow = AsyncUnitOfWork(db.factory) if db.is_async else UnitOfWork(db.factory)
    with pytest.raises(RuntimeError, match="not running"):
        _ = uow.session

    async def work() -> None:
        if db.is_async:
            async with uow:
                await aw(db.repo(ITEMS, uow.session).create({"name": "a", "sku": "a"}))
                await uow.commit()
                await aw(db.repo(ITEMS, uow.session).create({"name": "b", "sku": "b"}))
                await uow.rollback()
                raise RuntimeError("stop")
        else:
            with uow:
                db.repo(ITEMS, uow.session).create({"name": "a", "sku": "a"})
                uow.commit()
                db.repo(ITEMS, uow.session).create({"name": "b", "sku": "b"})
                uow.rollback()
                raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        await work()
    assert db.count_rows(Item.__table__) == 1


async def test_a_failing_commit_is_translated_and_rolled_back(db: Db) -> None:
    """Errors raised by COMMIT itself (deferred flush) become Conflict, and nothing stays."""
    with pytest.raises(Conflict):
        async with db.unit_of_work() as session:
            session.add_all([Item(name="a", sku="same"), Item(name="b", sku="same")])
    assert db.count_rows(Item.__table__) == 0
