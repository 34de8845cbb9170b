"""get_many on every database, sync and async: one statement on PostgreSQL (``= ANY``, one
bound array), one ``IN`` per chunk elsewhere; the order asked; missing ids reported; ids of
the wrong type refused before any statement is sent.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from sqlalchemy.orm import selectinload
from tests.integration.repository.conftest import Db, StatementCounter, aw
from tests.integration.repository.models import (
    ITEMS,
    MEMBERSHIPS,
    NOTES,
    PARENTS,
    AsyncItemRepo,
    AsyncMembershipRepo,
    AsyncParentRepo,
    Child,
    ItemRepo,
    MembershipRepo,
    Parent,
    ParentRepo,
)

from backendkit.errors import NotFound, ValidationFailed


class SmallItemRepo(ItemRepo):
    get_many_chunk_size: ClassVar[int] = 2


class AsyncSmallItemRepo(AsyncItemRepo):
    get_many_chunk_size: ClassVar[int] = 2


class SmallMembershipRepo(MembershipRepo):
    get_many_chunk_size: ClassVar[int] = 2


class AsyncSmallMembershipRepo(AsyncMembershipRepo):
    get_many_chunk_size: ClassVar[int] = 2


class SmallParentRepo(ParentRepo):
    get_many_chunk_size: ClassVar[int] = 2


class AsyncSmallParentRepo(AsyncParentRepo):
    get_many_chunk_size: ClassVar[int] = 2


SMALL_ITEMS = (SmallItemRepo, AsyncSmallItemRepo)
SMALL_MEMBERSHIPS = (SmallMembershipRepo, AsyncSmallMembershipRepo)
SMALL_PARENTS = (SmallParentRepo, AsyncSmallParentRepo)


async def _seed(db: Db, count: int) -> list[int]:
    repo = db.repo(ITEMS)
    rows = [{"name": f"item-{i}", "sku": f"sku-{i}", "score": i} for i in range(count)]
    ids = [item.id for item in await aw(repo.create_many(rows))]
    await db.commit()
    return ids


def _selects(counter: StatementCounter) -> list[str]:
    return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]


def _assert_shape(db: Db, statements: list[str], expected_in: int) -> None:
    """PostgreSQL: exactly one ``= ANY`` statement; elsewhere ``expected_in`` ``IN`` ones."""
    if db.dialect == "postgresql":
        assert len(statements) == 1
        assert "= ANY (" in statements[0].upper()
        assert " IN " not in statements[0].upper()
    else:
        assert len(statements) == expected_in
        assert all(" IN " in s.upper() for s in statements)


async def test_one_statement_in_the_order_asked(db: Db) -> None:
    """A short list: one statement everywhere; rows in the order asked."""
    ids = await _seed(db, 5)
    wanted = [ids[3], ids[0], ids[4]]
    with StatementCounter(db) as counter:
        found = await aw(db.repo(ITEMS).get_many(wanted))
    assert [item.id for item in found] == wanted
    _assert_shape(db, counter.statements, 1)


async def test_one_id_and_no_ids(db: Db) -> None:
    """One id is one statement; no ids is an empty list and no statement at all."""
    ids = await _seed(db, 2)
    repo = db.repo(ITEMS)
    with StatementCounter(db) as counter:
        assert await aw(repo.get_many([])) == []
        assert await aw(repo.get_many(iter(()))) == []
    assert counter.statements == []
    with StatementCounter(db) as counter:
        found = await aw(repo.get_many([ids[1]]))
    assert [item.name for item in found] == ["item-1"]
    _assert_shape(db, counter.statements, 1)


async def test_repeated_ids_count_once(db: Db) -> None:
    """A repeated id gives its row once, where it was first asked; it is sent once."""
    ids = await _seed(db, 3)
    with StatementCounter(db) as counter:
        found = await aw(db.repo(SMALL_ITEMS).get_many([ids[2], ids[0], ids[2], ids[0], ids[1]]))
    assert [item.id for item in found] == [ids[2], ids[0], ids[1]]
    _assert_shape(db, counter.statements, 2)  # three distinct ids, two per statement


async def test_a_list_longer_than_a_chunk(db: Db) -> None:
    """Seven ids, two per IN statement: four statements (one ANY on PostgreSQL), in order."""
    ids = await _seed(db, 9)
    wanted = [ids[i] for i in (8, 1, 6, 0, 3, 5, 2)]
    with StatementCounter(db) as counter:
        found = await aw(db.repo(SMALL_ITEMS).get_many(wanted))
    assert [item.id for item in found] == wanted
    _assert_shape(db, counter.statements, 4)


async def test_the_default_chunk_takes_a_long_list_at_once(db: Db) -> None:
    """The twin of the chunked list: the default chunk size sends 3,000 ids in one statement."""
    ids = await _seed(db, 4)
    wanted = [*reversed(ids), *range(10**6, 10**6 + 2996)]
    with StatementCounter(db) as counter:
        found = await aw(db.repo(ITEMS).get_many(wanted, missing="omit"))
    assert [item.id for item in found] == list(reversed(ids))
    _assert_shape(db, counter.statements, 1)


async def test_missing_ids_raise_not_found_naming_them(db: Db) -> None:
    """By default an id with no row is NOT_FOUND, each named by its position in the list."""
    ids = await _seed(db, 2)
    absent = 10**6
    with pytest.raises(NotFound) as caught:
        await aw(db.repo(ITEMS).get_many([ids[0], absent, ids[1], absent + 1]))
    error = caught.value
    assert (error.code, error.status) == ("NOT_FOUND", 404)
    assert error.message == "Item not found for 2 of the 4 ids asked"
    assert [(d.field, d.message) for d in error.details] == [
        ("ids[1]", f"Item {absent} not found"),
        ("ids[3]", f"Item {absent + 1} not found"),
    ]


async def test_missing_omit_returns_the_rows_found(db: Db) -> None:
    """The twin: with missing="omit" the same ids give the rows that exist, in order."""
    ids = await _seed(db, 2)
    found = await aw(db.repo(ITEMS).get_many([ids[1], 10**6, ids[0]], missing="omit"))
    assert [item.id for item in found] == [ids[1], ids[0]]
    assert await aw(db.repo(ITEMS).get_many([10**6], missing="omit")) == []


async def test_many_missing_ids_are_counted_not_listed(db: Db) -> None:
    """Thousands of missing ids: ten are named, the rest counted; across several chunks."""
    await _seed(db, 1)
    with pytest.raises(NotFound) as caught:
        await aw(db.repo(SMALL_ITEMS).get_many(range(10**6, 10**6 + 25)))
    details = caught.value.details
    assert [d.field for d in details] == [*(f"ids[{i}]" for i in range(10)), "ids"]
    assert details[-1].message == "15 more ids not found"
    assert caught.value.message == "Item not found for 25 of the 25 ids asked"


async def test_soft_deleted_rows_are_missing_unless_asked_for(db: Db) -> None:
    """A soft-deleted row is missing, as for get(); include_deleted=True finds it."""
    repo = db.repo(NOTES)
    keep = await aw(repo.create({"title": "keep"}))
    gone = await aw(repo.create({"title": "gone"}))
    await aw(repo.delete(gone.id))
    await db.commit()
    with pytest.raises(NotFound) as caught:
        await aw(repo.get_many([keep.id, gone.id]))
    assert [d.field for d in caught.value.details] == ["ids[1]"]
    found = await aw(repo.get_many([gone.id, keep.id], include_deleted=True))
    assert [note.title for note in found] == ["gone", "keep"]


async def test_loader_options_apply_to_every_chunk(db: Db) -> None:
    """selectinload runs for each chunk's rows; every parent has its children loaded."""
    parents = db.repo(PARENTS)
    made = await aw(parents.create_many([{"name": f"p{i}"} for i in range(5)]))
    db.session.add_all([Child(parent_id=p.id, name=f"c{p.name}") for p in made])
    await db.commit()
    wanted = [p.id for p in reversed(made)]
    fresh = db.new_session()
    found = await aw(
        db.repo(SMALL_PARENTS, fresh).get_many(wanted, options=[selectinload(Parent.children)])
    )
    assert [p.id for p in found] == wanted
    assert [[c.name for c in p.children] for p in found] == [[f"cp{i}"] for i in range(4, -1, -1)]


@pytest.mark.parametrize(
    ("ids", "field", "message"),
    [
        (["abc"], "ids[0]", "must be a valid integer"),
        ([1, None], "ids[1]", "must be a valid integer"),
        ([True], "ids[0]", "must be a valid integer"),
        ([1.5], "ids[0]", "must be a valid integer"),
        ([[1, 2]], "ids[0]", "must be a valid integer"),
        (["1\x00"], "ids[0]", "must not contain NUL characters"),
        ("12", "ids", "must be a list of ids"),
        ({"id": 1}, "ids", "must be a list of ids"),
        (12, "ids", "must be a list of ids"),
    ],
)
async def test_ids_of_the_wrong_type_are_a_validation_error(
    db: Db, ids: Any, field: str, message: str
) -> None:
    """Refused before any statement: VALIDATION_ERROR naming the id, never a 500."""
    await _seed(db, 2)
    with StatementCounter(db) as counter, pytest.raises(ValidationFailed) as caught:
        await aw(db.repo(ITEMS).get_many(ids))
    assert (caught.value.code, caught.value.status) == ("VALIDATION_ERROR", 400)
    assert [(d.field, d.message) for d in caught.value.details] == [(field, message)]
    assert counter.statements == []


async def test_ids_in_text_are_read_as_the_key_type(db: Db) -> None:
    """The valid twin: ids as digits (from a query string) find their rows, typed."""
    ids = await _seed(db, 3)
    found = await aw(db.repo(ITEMS).get_many([str(ids[2]), ids[0], f"{ids[2]}"]))
    assert [item.id for item in found] == [ids[2], ids[0]]


async def test_many_invalid_ids_are_counted_not_listed(db: Db) -> None:
    """Thirty bad ids: ten named, the rest counted."""
    with pytest.raises(ValidationFailed) as caught:
        await aw(db.repo(ITEMS).get_many(["x"] * 30))
    details = caught.value.details
    assert [d.field for d in details] == [*(f"ids[{i}]" for i in range(10)), "ids"]
    assert details[-1].message == "20 more ids are invalid"


async def _seed_memberships(db: Db) -> None:
    rows = [{"org": org, "user": user, "role": "member"} for org in ("a", "b") for user in range(3)]
    await aw(db.repo(MEMBERSHIPS).create_many(rows))
    await db.commit()


async def test_composite_keys_in_chunks(db: Db) -> None:
    """A composite key: PostgreSQL binds one array per column (unnest), others row-value IN."""
    await _seed_memberships(db)
    wanted = [("b", 2), ("a", 0), ("b", 0), ("a", 2), ("b", 1)]
    with StatementCounter(db) as counter:
        found = await aw(db.repo(SMALL_MEMBERSHIPS).get_many([*wanted, ("a", 0)]))
    assert [(m.org, m.user) for m in found] == wanted
    statements = _selects(counter)
    if db.dialect == "postgresql":
        assert len(statements) == 1
        assert "UNNEST(" in statements[0].upper()
    else:
        assert len(statements) == 3


async def test_composite_missing_and_wrong_shape(db: Db) -> None:
    """A missing composite id is named as a tuple; a wrong-shaped one is a validation error."""
    await _seed_memberships(db)
    repo = db.repo(MEMBERSHIPS)
    with pytest.raises(NotFound) as missing:
        await aw(repo.get_many([("a", 1), ("z", 9)]))
    assert [(d.field, d.message) for d in missing.value.details] == [
        ("ids[1]", "Membership (z, 9) not found")
    ]
    with pytest.raises(ValidationFailed) as shape:
        await aw(repo.get_many([("a", 1), ("a",), "a1", ("a", "x")]))
    assert [(d.field, d.message) for d in shape.value.details] == [
        ("ids[1]", "must be a list of 2 values"),
        ("ids[2]", "must be a list of 2 values"),
        ("ids[3][1]", "must be a valid integer"),
    ]
    found = await aw(repo.get_many([["a", "1"], ("b", 2)]))  # the valid twin: lists, digits
    assert [(m.org, m.user) for m in found] == [("a", 1), ("b", 2)]


async def test_an_id_the_database_matches_by_its_collation(db: Db) -> None:
    """MariaDB compares text without case or trailing spaces: the row answers that id there.

    Elsewhere (binary comparison) the same id has no row: NOT_FOUND, and its text, which
    is not shaped like an identifier, is not repeated.
    """
    await _seed_memberships(db)
    repo = db.repo(MEMBERSHIPS)
    if db.dialect == "mysql":
        found = await aw(repo.get_many([("B", 1), ("a ", 2), ("a", 0)]))
        assert [(m.org, m.user) for m in found] == [("b", 1), ("a", 2), ("a", 0)]
        return
    with pytest.raises(NotFound) as caught:
        await aw(repo.get_many([("B", 1), ("a ", 2), ("a", 0)]))
    assert [(d.field, d.message) for d in caught.value.details] == [
        ("ids[0]", "Membership (B, 1) not found"),
        ("ids[1]", "Membership not found"),
    ]
