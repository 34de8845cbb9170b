"""Offset paging, count strategies, filters and sorting on every database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.repository.conftest import Db, StatementCounter, aw
from tests.integration.repository.models import ITEMS, PARENTS, Child, Parent

from backendkit.errors import ValidationFailed
from backendkit.listing import PageParams


async def _seed(db: Db, count: int = 12) -> None:
    rows = [
        {
            "name": f"Item {i:02d}",
            "sku": f"sku-{i}",
            "score": None if i % 4 == 0 else i % 3,
            "category": ["red", "blue", None][i % 3],
            "price": i,
            "active": i % 2 == 0,
        }
        for i in range(count)
    ]
    await aw(db.repo(ITEMS).create_many(rows))
    await db.commit()


async def test_exact_count_runs_page_and_count(db: Db) -> None:
    """Default strategy: the page query plus one COUNT; total and totalPages are exact."""
    await _seed(db)
    repo = db.repo(ITEMS)
    with StatementCounter(db) as counter:
        page = await aw(repo.list_page(PageParams(page=2, per_page=5), sort="price"))
    assert [item.price for item in page.items] == [5, 6, 7, 8, 9]
    assert (page.total, page.total_pages, page.has_next) == (12, 3, True)
    assert len(counter.statements) == 2


async def test_exact_count_is_skipped_when_the_page_is_short(db: Db) -> None:
    """A short first (or last) page already tells the total: no COUNT is sent."""
    await _seed(db)
    repo = db.repo(ITEMS)
    with StatementCounter(db) as counter:
        first = await aw(repo.list_page(PageParams(page=1, per_page=50)))
        last = await aw(repo.list_page(PageParams(page=3, per_page=5)))
    assert (first.total, first.has_next) == (12, False)
    assert (last.total, len(last.items), last.has_next) == (12, 2, False)
    assert len(counter.statements) == 2


async def test_page_past_the_end_keeps_the_true_total(db: Db) -> None:
    """An empty page past the end reports the real total, never 0."""
    await _seed(db)
    page = await aw(db.repo(ITEMS).list_page(PageParams(page=9, per_page=5)))
    assert (page.items, page.total, page.has_next) == ([], 12, False)
    empty = await aw(db.repo(ITEMS).list_page(PageParams(page=1), filters={"name": "none"}))
    assert (empty.items, empty.total, empty.total_pages) == ([], 0, 0)


async def test_count_none_is_one_query_with_has_next(db: Db) -> None:
    """Strategy none: one statement, total null, hasNext from one extra row."""
    await _seed(db)
    repo = db.repo(ITEMS)
    with StatementCounter(db) as counter:
        page = await aw(repo.list_page(PageParams(page=2, per_page=5), count="none"))
        last = await aw(repo.list_page(PageParams(page=3, per_page=5), count="none"))
        exact_end = await aw(repo.list_page(PageParams(page=2, per_page=6), count="none"))
    assert (len(page.items), page.total, page.total_pages, page.has_next) == (5, None, None, True)
    assert (len(last.items), last.has_next) == (2, False)
    assert (len(exact_end.items), exact_end.has_next) == (6, False)
    assert len(counter.statements) == 3


async def test_count_estimated_is_exact_below_the_threshold(db: Db) -> None:
    """Strategy estimated: below the threshold (and off PostgreSQL) the count is exact."""
    await _seed(db)
    repo = db.repo(ITEMS)
    page = await aw(repo.list_page(PageParams(page=1, per_page=5), count="estimated"))
    assert (page.total, page.has_next) == (12, True)
    past = await aw(repo.list_page(PageParams(page=7, per_page=5), count="estimated"))
    assert (past.items, past.total) == ([], 12)


async def test_count_estimated_uses_the_planner_above_the_threshold(db: Db) -> None:
    """Above the threshold PostgreSQL's planner estimate is the total (never below the page)."""
    await _seed(db)
    cls = type("Estimating", (db.repo(ITEMS).__class__,), {"estimate_threshold": 0})
    repo = cls(db.session)
    with StatementCounter(db) as counter:
        page = await aw(repo.list_page(PageParams(page=1, per_page=5), count="estimated"))
    assert page.total is not None
    assert page.total >= 6
    if db.dialect == "postgresql":
        assert any(s.startswith("EXPLAIN (FORMAT JSON)") for s in counter.statements)
        assert not any("count(" in s.lower() for s in counter.statements)
    else:
        assert page.total == 12


async def test_unknown_count_strategy_is_refused(db: Db) -> None:
    """A typo in the strategy is a programming error, not a silent exact count."""
    with pytest.raises(ValueError, match="count strategy"):
        await aw(db.repo(ITEMS).list_page(PageParams(page=2), count="precise"))


async def test_max_offset_is_enforced(db: Db) -> None:
    """An offset beyond max_offset is a VALIDATION_ERROR on `page`; the limit itself passes."""
    repo_cls = type("Capped", (db.repo(ITEMS).__class__,), {"max_offset": 10})
    repo = repo_cls(db.session)
    ok = await aw(repo.list_page(PageParams(page=3, per_page=5)))
    assert ok.page == 3
    with pytest.raises(ValidationFailed) as info:
        await aw(repo.list_page(PageParams(page=4, per_page=5)))
    assert [d.field for d in info.value.details] == ["page"]


async def test_count_is_right_with_joins_and_distinct(db: Db) -> None:
    """COUNT over the query as a subquery counts parents, not joined rows."""
    async with db.unit_of_work() as session:
        repo = db.repo(PARENTS, session)
        for p in range(3):
            parent = await aw(repo.create({"name": f"p{p}"}))
            session.add_all([Child(parent_id=parent.id, name=f"c{c}") for c in range(p + 2)])
    repo = db.repo(PARENTS)
    base = select(Parent).join(Child).distinct()
    joined = Parent.id.in_(select(Child.parent_id))
    assert await aw(repo.count(joined)) == 3
    total = await aw(db.session.scalar(repo.statements.count(base)))
    assert total == 3


async def test_filters_by_every_operator(db: Db) -> None:
    """eq, ne, in, ranges, null checks and search select the expected rows."""
    await _seed(db)
    repo = db.repo(ITEMS)

    async def names(query: dict[str, Any]) -> list[str]:
        return [item.name for item in await aw(repo.list(filters=query, sort="name"))]

    assert await names({"category": "red"}) == ["Item 00", "Item 03", "Item 06", "Item 09"]
    assert len(await names({"category[ne]": "red"})) == 8
    assert await names({"category[in]": "blue"}) == ["Item 01", "Item 04", "Item 07", "Item 10"]
    assert len(await names({"category[in]": ["blue", "red"]})) == 8
    assert len(await names({"category[null]": "true"})) == 4
    assert len(await names({"score[null]": "false"})) == 9
    assert await names({"score[gte]": "2", "price[lte]": "5"}) == ["Item 02", "Item 05"]
    assert await names({"active": "false", "score[lt]": "1"}) == ["Item 03", "Item 09"]
    assert len(await names({"name[search]": "item 1"})) == 2
    assert len(await names({"name[search]": "ITEM"})) == 12


async def test_search_treats_wildcards_literally(db: Db) -> None:
    """% and _ in a search term match themselves, not any text."""
    repo = db.repo(ITEMS)
    await aw(
        repo.create_many(
            [
                {"name": "100% cotton", "sku": "a"},
                {"name": "1000 cotton", "sku": "b"},
                {"name": "snake_case", "sku": "c"},
                {"name": "snakeXcase", "sku": "d"},
                {"name": "back\\slash/", "sku": "e"},
            ]
        )
    )
    for term, expected in [
        ("0%", ["100% cotton"]),
        ("e_c", ["snake_case"]),
        ("%", ["100% cotton"]),
        ("\\s", ["back\\slash/"]),
        ("h/", ["back\\slash/"]),
    ]:
        found = await aw(repo.list(filters={"name[search]": term}))
        assert [item.name for item in found] == expected, term


async def test_bad_filters_name_the_field(db: Db) -> None:
    """Unknown field, bad operator and wrong type are VALIDATION_ERRORs naming the field."""
    repo = db.repo(ITEMS)
    for query, field in [
        ({"sku": "x"}, "sku"),
        ({"score[search]": "1"}, "score"),
        ({"score[gte]": "high"}, "score"),
        ({"price[lte]": "cheap"}, "price"),
        ({"active": "maybe"}, "active"),
        ({"created[gte]": "yesterday"}, "created"),
        # Not shaped like a field name: refused without being repeated back.
        ({"name; DROP TABLE bk_items": "x"}, None),
    ]:
        with pytest.raises(ValidationFailed) as info:
            await aw(repo.list(filters=query))
        assert [d.field for d in info.value.details] == [field], query
        assert "DROP" not in info.value.message
        assert all("DROP" not in d.message for d in info.value.details)
    # The valid twin: paging keys next to filters are ignored, not refused.
    ok = await aw(repo.list(filters={"page": "2", "perPage": "5", "sort": "name", "score": "1"}))
    assert ok == []


async def test_sorting_is_allowlisted_with_a_primary_key_tie_breaker(db: Db) -> None:
    """Sorting by an allowlisted field orders ties by primary key; others are refused."""
    await _seed(db)
    repo = db.repo(ITEMS)
    by_active = await aw(repo.list(sort="-active"))
    assert [i.active for i in by_active] == [True] * 6 + [False] * 6
    ids = [i.id for i in by_active]
    assert ids[:6] == sorted(ids[:6], reverse=True)
    with pytest.raises(ValidationFailed) as info:
        await aw(repo.list(sort="password"))
    assert [d.field for d in info.value.details] == ["sort"]


async def test_nulls_sort_last_ascending_and_first_descending(db: Db) -> None:
    """NULL is the greatest value on every database."""
    await _seed(db)
    repo = db.repo(ITEMS)
    ascending = [i.score for i in await aw(repo.list(sort="score"))]
    descending = [i.score for i in await aw(repo.list(sort="-score"))]
    assert ascending == [0] * 3 + [1] * 3 + [2] * 3 + [None] * 3
    assert descending == [None] * 3 + [2] * 3 + [1] * 3 + [0] * 3


async def test_list_limit_and_default_sort(db: Db) -> None:
    """list() honours limit; without a sort the primary key orders the rows."""
    await _seed(db)
    items = await aw(db.repo(ITEMS).list(limit=3))
    assert [i.sku for i in items] == ["sku-0", "sku-1", "sku-2"]
