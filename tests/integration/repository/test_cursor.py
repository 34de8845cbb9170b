"""Keyset (cursor) paging: every sort shape, both directions, signed and bound cursors."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, Item
from tests.integration.repository.test_paging import StatementCounter

from backendkit.errors import ConfigurationError, ValidationFailed
from backendkit.listing import CursorCodec, CursorParams, cursor_binding
from backendkit.listing._sort import canonical_sort

SORTS = ["score", "-score", "category,-score", "-category,name", "-active,score,-price", "name"]


async def _seed(db: Db, count: int = 17) -> None:
    rows = [
        {
            "name": ["alpha", "Alpha", "beta", "BETA", "gamma"][i % 5],
            "sku": f"sku-{i}",
            "score": None if i % 4 == 0 else i % 3,
            "category": ["red", None, "blue", None][i % 4],
            "price": i % 6,
            "active": i % 2 == 0,
        }
        for i in range(count)
    ]
    await aw(db.repo(ITEMS).create_many(rows))
    await db.commit()


async def walk(repo: Any, sort: str, per_page: int, **kwargs: Any) -> tuple[list[int], list[int]]:
    """Walk forward to the end, then backward to the start; return both id sequences."""
    forward: list[int] = []
    page = await aw(repo.list_cursor(CursorParams(per_page=per_page), sort=sort, **kwargs))
    assert page.prev_cursor is None
    assert not page.has_prev
    forward += [item.id for item in page.items]
    while page.has_next:
        page = await aw(
            repo.list_cursor(
                CursorParams(cursor=page.next_cursor, per_page=per_page), sort=sort, **kwargs
            )
        )
        forward += [item.id for item in page.items]
    backward = [item.id for item in page.items]
    while page.has_prev:
        page = await aw(
            repo.list_cursor(
                CursorParams(cursor=page.prev_cursor, per_page=per_page), sort=sort, **kwargs
            )
        )
        backward = [item.id for item in page.items] + backward
    return forward, backward


@pytest.mark.parametrize("sort", SORTS)
async def test_walk_sees_every_row_once_in_database_order(db: Db, sort: str) -> None:
    """Forward and backward walks both give exactly the database's ORDER BY order."""
    await _seed(db)
    repo = db.repo(ITEMS)
    expected = [item.id for item in await aw(repo.list(sort=sort))]
    for per_page in (1, 4, 17, 50):
        forward, backward = await walk(repo, sort, per_page)
        assert forward == expected, per_page
        assert backward == expected, per_page


async def test_walk_with_filters(db: Db) -> None:
    """Filters apply to every page; the cursor is bound to them."""
    await _seed(db)
    repo = db.repo(ITEMS)
    filters = {"score[null]": "false"}
    expected = [item.id for item in await aw(repo.list(filters=filters, sort="-score"))]
    forward, backward = await walk(repo, "-score", 3, filters=filters)
    assert forward == backward == expected


async def test_cursor_paging_never_counts(db: Db) -> None:
    """One statement per cursor page: no COUNT."""
    await _seed(db)
    repo = db.repo(ITEMS)
    with StatementCounter(db) as counter:
        first = await aw(repo.list_cursor(CursorParams(per_page=5), sort="score"))
        await aw(repo.list_cursor(CursorParams(cursor=first.next_cursor, per_page=5), sort="score"))
    assert len(counter.statements) == 2
    assert not any("count(" in s.lower() for s in counter.statements)


async def test_cursor_is_bound_to_sort_and_filters(db: Db) -> None:
    """A cursor replayed with another sort or other filters is a VALIDATION_ERROR on cursor."""
    await _seed(db)
    repo = db.repo(ITEMS)
    page = await aw(repo.list_cursor(CursorParams(per_page=3), sort="score"))
    token = page.next_cursor
    assert token is not None
    for kwargs in ({"sort": "-score"}, {"sort": "score", "filters": {"category": "red"}}):
        with pytest.raises(ValidationFailed) as info:
            await aw(repo.list_cursor(CursorParams(cursor=token, per_page=3), **kwargs))
        assert [d.field for d in info.value.details] == ["cursor"]
    # The valid twin: same sort, same (empty) filters.
    again = await aw(repo.list_cursor(CursorParams(cursor=token, per_page=3), sort="score"))
    assert again.items


async def test_tampered_or_foreign_cursors_are_refused(db: Db) -> None:
    """A changed byte, or a token signed with another key, is refused."""
    await _seed(db)
    repo = db.repo(ITEMS)
    page = await aw(repo.list_cursor(CursorParams(per_page=3), sort="score"))
    token = page.next_cursor
    assert token is not None
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    foreign = db.repo(ITEMS, cursor_codec=CursorCodec([b"another-key-0123456789abcdef"]))
    for attempt, r in ((flipped, repo), (token, foreign), ("garbage", repo)):
        with pytest.raises(ValidationFailed):
            await aw(r.list_cursor(CursorParams(cursor=attempt, per_page=3), sort="score"))


async def test_cursor_whose_payload_does_not_fit_is_refused(db: Db) -> None:
    """A validly signed payload of the wrong shape (another key count) is refused."""
    await _seed(db, 3)
    repo = db.repo(ITEMS)
    keys = repo.sort_keys("score")
    binding = cursor_binding(canonical_sort(keys), [], scope=f"repo:{Item.__tablename__}")
    token = repo.cursor_codec.encode({"k": [1], "b": False, "i": False}, binding=binding)
    with pytest.raises(ValidationFailed) as info:
        await aw(repo.list_cursor(CursorParams(cursor=token, per_page=3), sort="score"))
    assert [d.field for d in info.value.details] == ["cursor"]


async def test_past_the_end_offers_the_way_back(db: Db) -> None:
    """When the rows after a cursor are gone, the empty page links back to them."""
    await _seed(db, 6)
    repo = db.repo(ITEMS)
    first = await aw(repo.list_cursor(CursorParams(per_page=3), sort="price"))
    await aw(db.session.execute(Item.__table__.delete().where(Item.price >= 3)))
    await db.commit()
    empty = await aw(
        repo.list_cursor(CursorParams(cursor=first.next_cursor, per_page=3), sort="price")
    )
    assert (empty.items, empty.has_next, empty.has_prev) == ([], False, True)
    back = await aw(
        repo.list_cursor(CursorParams(cursor=empty.prev_cursor, per_page=3), sort="price")
    )
    assert [item.id for item in back.items] == [item.id for item in first.items]
    assert back.has_prev is False
    # And from an empty backward page, the way forward again.
    await aw(db.session.execute(Item.__table__.delete()))
    await db.commit()
    gone = await aw(
        repo.list_cursor(
            CursorParams(cursor=back.prev_cursor or empty.prev_cursor, per_page=3), sort="price"
        )
    )
    assert gone.items == []
    assert gone.has_prev is False
    assert gone.next_cursor is not None


async def test_list_cursor_needs_a_codec(db: Db) -> None:
    """Without a CursorCodec, list_cursor is a configuration error."""
    repo = db.repo(ITEMS, cursor_codec=None)
    with pytest.raises(ConfigurationError):
        await aw(repo.list_cursor(CursorParams()))
