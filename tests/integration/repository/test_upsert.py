"""Native upserts: insert-or-update in one atomic statement on every database."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, MEMBERSHIPS, NOTES, Item

from backendkit.errors import ValidationFailed


async def test_upsert_inserts_then_updates(db: Db) -> None:
    """The first call inserts; the second updates the same row in place."""
    repo = db.repo(ITEMS)
    first = await aw(repo.upsert({"sku": "u1", "name": "one", "score": 1}, conflict=["sku"]))
    await db.commit()
    second = await aw(repo.upsert({"sku": "u1", "name": "two", "score": 2}, conflict=["sku"]))
    await db.commit()
    assert second.id == first.id
    assert (second.name, second.score) == ("two", 2)
    assert db.count_rows(Item.__table__) == 1


async def test_upsert_updates_only_the_listed_columns(db: Db) -> None:
    """With update=[...], other columns keep their stored values."""
    repo = db.repo(ITEMS)
    await aw(repo.upsert({"sku": "u1", "name": "one", "score": 1}, conflict=["sku"]))
    row = await aw(
        repo.upsert(
            {"sku": "u1", "name": "ignored", "score": 5}, conflict=["sku"], update=["score"]
        )
    )
    assert (row.name, row.score) == ("one", 5)


async def test_upsert_many_dedupes_and_keeps_input_order(db: Db) -> None:
    """Duplicates within one call: the last one wins; results follow the input order."""
    repo = db.repo(ITEMS)
    await aw(repo.create({"sku": "b", "name": "old"}))
    rows = await aw(
        repo.upsert_many(
            [
                {"sku": "a", "name": "a1"},
                {"sku": "b", "name": "b1"},
                {"sku": "a", "name": "a2"},
                {"sku": "c", "name": "c1"},
            ],
            conflict=["sku"],
            chunk_size=2,
        )
    )
    assert [(r.sku, r.name) for r in rows] == [("a", "a2"), ("b", "b1"), ("c", "c1")]
    await db.commit()
    assert db.count_rows(Item.__table__) == 3


async def test_upsert_refreshes_timestamps_and_version(db: Db) -> None:
    """On conflict the row's version goes up and updated_at moves; created_at stays."""
    repo = db.repo(NOTES)
    first = await aw(repo.upsert({"title": "t", "body": "1"}, conflict=["title"]))
    created, updated, version = first.created_at, first.updated_at, first.version
    await db.commit()
    again = await aw(repo.upsert({"title": "t", "body": "2"}, conflict=["title"]))
    assert again.body == "2"
    assert again.version == version + 1
    assert again.created_at == created
    assert again.updated_at >= updated


async def test_upsert_needs_the_conflict_values(db: Db) -> None:
    """A row without its conflict key is a VALIDATION_ERROR; unknown names are refused."""
    repo = db.repo(ITEMS)
    with pytest.raises(ValidationFailed):
        await aw(repo.upsert({"name": "x"}, conflict=["sku"]))
    with pytest.raises(ValueError, match="not mapped"):
        await aw(repo.upsert({"sku": "x", "name": "x"}, conflict=["nope"]))
    with pytest.raises(ValueError, match="conflict"):
        await aw(repo.upsert({"sku": "x", "name": "x"}, conflict=[]))


async def test_concurrent_upserts_of_one_key_never_fail_or_duplicate(db: Db) -> None:
    """Writers released together by a barrier all succeed and leave exactly one row."""
    workers = 4

    if db.is_async:
        ready = 0
        gate = asyncio.Event()

        async def run(n: int) -> Any:
            nonlocal ready
            async with db.unit_of_work() as session:
                ready += 1
                if ready == workers:
                    gate.set()
                await gate.wait()
                return await aw(
                    db.repo(ITEMS, session).upsert(
                        {"sku": "race", "name": f"w{n}", "score": n}, conflict=["sku"]
                    )
                )

        results = await asyncio.gather(*(run(n) for n in range(workers)))
        assert len(results) == workers
    else:
        barrier = threading.Barrier(workers)
        errors: list[BaseException] = []

        def run_sync(n: int) -> None:
            try:
                session = db.factory()
                try:
                    repo = db.repo(ITEMS, session)
                    barrier.wait(timeout=10)
                    repo.upsert({"sku": "race", "name": f"w{n}", "score": n}, conflict=["sku"])
                    session.commit()
                finally:
                    session.close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run_sync, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
    assert db.count_rows(Item.__table__) == 1


async def test_upsert_on_a_composite_key_and_with_nothing_to_update(db: Db) -> None:
    """A two-column conflict key works; update=[] keeps the stored row as it is."""
    repo = db.repo(MEMBERSHIPS)
    rows = await aw(
        repo.upsert_many(
            [{"org": "a", "user": 1, "role": "admin"}, {"org": "a", "user": 2, "role": "member"}],
            conflict=["org", "user"],
        )
    )
    assert [(m.user, m.role) for m in rows] == [(1, "admin"), (2, "member")]
    kept = await aw(
        repo.upsert({"org": "a", "user": 1, "role": "guest"}, conflict=["org", "user"], update=[])
    )
    assert kept.role == "admin"
    await db.commit()
    assert db.count_rows(MEMBERSHIPS[0].model.__table__) == 2
