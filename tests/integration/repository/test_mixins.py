"""Timestamps, soft delete and optimistic locking on every database."""

from __future__ import annotations

import pytest
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import NOTES, Note

from backendkit.errors import Conflict, NotFound
from backendkit.listing import PageParams
from backendkit.testing import FakeClock


async def test_timestamps_are_set_on_insert_and_update(db: Db) -> None:
    """created_at and updated_at are filled in; an update moves updated_at only."""
    repo = db.repo(NOTES)
    note = await aw(repo.create({"title": "t"}))
    await db.commit()
    created, updated = note.created_at, note.updated_at
    assert created is not None
    assert updated is not None
    changed = await aw(repo.update(note, {"body": "new"}))
    await db.commit()
    assert changed.created_at == created
    assert changed.updated_at >= updated


async def test_soft_delete_hides_rows_unless_asked(db: Db) -> None:
    """delete() marks the row; reads skip it; include_deleted shows it; hard=True removes it."""
    clock = FakeClock(1_700_000_000)
    repo = db.repo(NOTES, clock=clock)
    keep = await aw(repo.create({"title": "keep"}))
    gone = await aw(repo.create({"title": "gone"}))
    await aw(repo.delete(gone.id))
    await db.commit()
    assert gone.deleted_at is not None
    assert gone.deleted_at.timestamp() == pytest.approx(1_700_000_000) or db.dialect != "postgresql"
    assert await aw(repo.get_or_none(gone.id)) is None
    with pytest.raises(NotFound):
        await aw(repo.get(gone.id))
    assert [n.id for n in await aw(repo.list())] == [keep.id]
    assert await aw(repo.count()) == 1
    assert (await aw(repo.list_page(PageParams()))).total == 1
    assert await aw(repo.count(include_deleted=True)) == 2
    assert (await aw(repo.get(gone.id, include_deleted=True))).title == "gone"
    await aw(repo.delete(await aw(repo.get(gone.id, include_deleted=True)), hard=True))
    await db.commit()
    assert db.count_rows(Note.__table__) == 1


async def test_version_goes_up_on_every_update(db: Db) -> None:
    """Each flushed update increments version."""
    repo = db.repo(NOTES)
    note = await aw(repo.create({"title": "v"}))
    assert note.version == 1
    await aw(repo.update(note, {"body": "a"}))
    await aw(repo.update(note, {"body": "b", "version": 2}))
    assert note.version == 3


async def test_an_outdated_version_in_the_request_is_a_conflict(db: Db) -> None:
    """A client sending the version it read, after someone else updated, gets a Conflict."""
    repo = db.repo(NOTES)
    note = await aw(repo.create({"title": "v"}))
    await aw(repo.update(note, {"body": "a"}))
    with pytest.raises(Conflict) as info:
        await aw(repo.update(note.id, {"body": "b", "version": 1}))
    assert [d.field for d in info.value.details] == ["version"]


async def test_a_concurrent_stale_update_is_a_conflict(db: Db) -> None:
    """Two sessions load version 1; the second to write gets a Conflict at flush."""
    note = await aw(db.repo(NOTES).create({"title": "v"}))
    await db.commit()
    first, second = db.new_session(), db.new_session()
    mine = await aw(db.repo(NOTES, first).get(note.id))
    theirs = await aw(db.repo(NOTES, second).get(note.id))
    await aw(db.repo(NOTES, first).update(mine, {"body": "first"}))
    await aw(first.commit())
    with pytest.raises(Conflict):
        await aw(db.repo(NOTES, second).update(theirs, {"body": "second"}))
    await aw(second.rollback())
    fresh = await aw(db.repo(NOTES, db.new_session()).get(note.id))
    assert (fresh.body, fresh.version) == ("first", 2)
