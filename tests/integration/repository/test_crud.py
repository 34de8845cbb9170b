"""CRUD operations behave alike on every database, sync and async."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import event
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, MEMBERSHIPS, Item

from backendkit.errors import NotFound, ValidationFailed


def _item(i: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"item-{i}", "sku": f"sku-{i}", "score": i, **extra}


async def _seed(db: Db, count: int) -> list[Item]:
    repo = db.repo(ITEMS)
    items = await aw(repo.create_many([_item(i) for i in range(count)]))
    await db.commit()
    return list(items)


async def test_create_returns_the_row_with_its_key_and_defaults(db: Db) -> None:
    """create() flushes: the primary key and Python defaults are set on the returned object."""
    repo = db.repo(ITEMS)
    item = await aw(repo.create(_item(1)))
    assert item.id is not None
    assert item.price == Decimal("0")
    await db.commit()
    assert db.count_rows(Item.__table__) == 1


async def test_create_accepts_a_pydantic_model_using_only_set_fields(db: Db) -> None:
    """A pydantic model's unset fields are left to the column defaults."""

    class NewItem(BaseModel):
        name: str
        sku: str
        price: Decimal = Decimal("9.99")

    item = await aw(db.repo(ITEMS).create(NewItem(name="n", sku="s")))
    assert item.price == Decimal("0")


async def test_create_rejects_unknown_fields_by_name(db: Db) -> None:
    """A key that is not a mapped attribute is a VALIDATION_ERROR naming it (camelCase)."""
    with pytest.raises(ValidationFailed) as info:
        await aw(db.repo(ITEMS).create({**_item(1), "is_admin": True}))
    assert [d.field for d in info.value.details] == ["isAdmin"]


async def test_get_and_get_or_none(db: Db) -> None:
    """get() returns the row or raises NOT_FOUND; get_or_none() returns None instead."""
    items = await _seed(db, 3)
    repo = db.repo(ITEMS)
    assert (await aw(repo.get(items[1].id))).name == "item-1"
    assert await aw(repo.get_or_none(10**6)) is None
    with pytest.raises(NotFound) as info:
        await aw(repo.get(10**6))
    assert info.value.message == "Item not found"


async def test_exists_and_count_with_filters(db: Db) -> None:
    """exists() and count() honour trusted clauses and parsed client filters."""
    await _seed(db, 6)
    repo = db.repo(ITEMS)
    assert await aw(repo.count()) == 6
    assert await aw(repo.count(filters={"score[gte]": "3"})) == 3
    assert await aw(repo.count(Item.score < 2)) == 2
    assert await aw(repo.exists(filters={"name": "item-4"})) is True
    assert await aw(repo.exists(filters={"name": "nope"})) is False


async def test_update_is_partial_from_a_mapping_or_a_model(db: Db) -> None:
    """update() changes only the given fields, by instance or by primary key."""
    items = await _seed(db, 2)
    repo = db.repo(ITEMS)
    updated = await aw(repo.update(items[0].id, {"name": "renamed"}))
    assert (updated.name, updated.score) == ("renamed", 0)

    class Patch(BaseModel):
        name: str | None = None
        score: int | None = None

    patched = await aw(repo.update(updated, Patch(score=42)))
    assert (patched.name, patched.score) == ("renamed", 42)
    await db.commit()
    fresh = db.new_session()
    again = await aw(db.repo(ITEMS, fresh).get(items[0].id))
    assert (again.name, again.score) == ("renamed", 42)


async def test_update_refuses_primary_key_and_unknown_fields(db: Db) -> None:
    """The primary key cannot be changed; unknown fields are named."""
    items = await _seed(db, 1)
    repo = db.repo(ITEMS)
    with pytest.raises(ValidationFailed) as info:
        await aw(repo.update(items[0].id, {"id": 99, "nope": 1}))
    assert {d.field for d in info.value.details} == {"nope"}
    with pytest.raises(ValidationFailed) as info:
        await aw(repo.update(items[0].id, {"id": 99}))
    assert [d.field for d in info.value.details] == ["id"]
    with pytest.raises(NotFound):
        await aw(repo.update(10**6, {"name": "x"}))


async def test_delete_by_instance_and_by_key(db: Db) -> None:
    """delete() removes the row; a missing key is NOT_FOUND."""
    items = await _seed(db, 2)
    repo = db.repo(ITEMS)
    await aw(repo.delete(items[0].id))
    await aw(repo.delete(await aw(repo.get(items[1].id))))
    await db.commit()
    assert db.count_rows(Item.__table__) == 0
    with pytest.raises(NotFound):
        await aw(repo.delete(items[0].id))


async def test_create_many_uses_one_statement_per_chunk(db: Db) -> None:
    """create_many() sends one INSERT per chunk and returns rows in input order."""
    repo = db.repo(ITEMS)
    statements: list[str] = []
    sync_engine = db.engine.sync_engine if db.is_async else db.engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            statements.append(statement)

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        created = await aw(repo.create_many([_item(i) for i in range(25)], chunk_size=10))
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert [item.name for item in created] == [f"item-{i}" for i in range(25)]
    assert len({item.id for item in created}) == 25
    assert len(statements) == 3
    assert await aw(repo.create_many([])) == []


async def test_create_many_accepts_instances(db: Db) -> None:
    """Instances are added and flushed together."""
    created = await aw(db.repo(ITEMS).create_many([Item(**_item(i)) for i in range(3)]))
    assert all(item.id is not None for item in created)


async def test_composite_primary_key(db: Db) -> None:
    """get/get_many/list_cursor work with a composite primary key (a tuple)."""
    repo = db.repo(MEMBERSHIPS)
    await aw(
        repo.create_many(
            [
                {"org": org, "user": user, "role": "admin" if user % 2 else "member"}
                for org in ("a", "b")
                for user in range(3)
            ]
        )
    )
    await db.commit()
    assert (await aw(repo.get(("b", 1)))).role == "admin"
    found = await aw(repo.get_many([("b", 2), ("a", 0), ("z", 9)], missing="omit"))
    assert [(m.org, m.user) for m in found] == [("b", 2), ("a", 0)]
    from backendkit.listing import CursorParams

    seen = []
    page = await aw(repo.list_cursor(CursorParams(per_page=2), sort="role"))
    seen += page.items
    while page.has_next:
        page = await aw(
            repo.list_cursor(CursorParams(cursor=page.next_cursor, per_page=2), sort="role")
        )
        seen += page.items
    assert [(m.role, m.org, m.user) for m in seen] == sorted((m.role, m.org, m.user) for m in seen)
    assert len(seen) == 6
