"""Randomized keyset walks with heavy ties and NULLs, with and without concurrent writes.

Expected order is the database's own ORDER BY (MariaDB compares strings case-insensitively,
so a Python sort would be wrong there), and rows present for the whole walk must be seen
exactly once even while other rows are inserted and deleted between pages.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS, Item

from backendkit.listing import CursorParams

SORTS = [
    "score",
    "-score",
    "category",
    "-category",
    "name",
    "category,score",
    "-category,score",
    "category,-score",
    "-active,category,-name",
    "score,-category,name",
]

ROW = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["a", "A", "b", "B", "c"]),
        "category": st.sampled_from([None, None, "x", "X", "y"]),
        "score": st.sampled_from([None, 0, 1, 1, 2]),
        "active": st.booleans(),
    }
)

SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def _reset(db: Db, rows: list[dict[str, Any]], tag: str) -> Any:
    db.database.clear()
    session = db.new_session()
    repo = db.repo(ITEMS, session)
    await aw(repo.create_many([{**row, "sku": f"{tag}{i}"} for i, row in enumerate(rows)]))
    await aw(session.commit())
    return session


async def _page(repo: Any, cursor: str | None, per_page: int, sort: str) -> Any:
    return await aw(repo.list_cursor(CursorParams(cursor=cursor, per_page=per_page), sort=sort))


@SETTINGS
@given(
    rows=st.lists(ROW, min_size=0, max_size=30),
    sort=st.sampled_from(SORTS),
    per_page=st.integers(1, 7),
)
async def test_random_walk_forward_and_backward(
    db: Db, rows: list[dict[str, Any]], sort: str, per_page: int
) -> None:
    """Every row exactly once, in the database's order, walking either way."""
    session = await _reset(db, rows, "w")
    try:
        repo = db.repo(ITEMS, session)
        expected = [item.id for item in await aw(repo.list(sort=sort))]
        seen: list[int] = []
        page = await _page(repo, None, per_page, sort)
        seen += [item.id for item in page.items]
        while page.has_next:
            assert len(seen) <= len(rows), "the walk does not end"
            page = await _page(repo, page.next_cursor, per_page, sort)
            seen += [item.id for item in page.items]
        assert seen == expected
        back = [item.id for item in page.items]
        while page.has_prev:
            assert len(back) <= len(rows), "the walk does not end"
            page = await _page(repo, page.prev_cursor, per_page, sort)
            back = [item.id for item in page.items] + back
        assert back == expected
    finally:
        await aw(session.close())


@SETTINGS
@given(
    rows=st.lists(ROW, min_size=1, max_size=25),
    sort=st.sampled_from(SORTS),
    per_page=st.integers(1, 5),
    churn=st.lists(
        st.tuples(st.lists(ROW, max_size=3), st.lists(st.integers(0, 10**6), max_size=3)),
        min_size=1,
        max_size=12,
    ),
)
async def test_walk_while_rows_come_and_go(
    db: Db,
    rows: list[dict[str, Any]],
    sort: str,
    per_page: int,
    churn: list[tuple[list[dict[str, Any]], list[int]]],
) -> None:
    """With inserts and deletes between pages, stable rows appear exactly once, none twice."""
    session = await _reset(db, rows, "s")
    writer = db.new_session()
    try:
        repo = db.repo(ITEMS, session)
        writes = db.repo(ITEMS, writer)
        # Rows are told apart by sku, never reused (SQLite may reuse a deleted row's id).
        stable = {item.sku for item in await aw(repo.list())}
        deleted: set[str] = set()
        seen: list[str] = []
        page = await _page(repo, None, per_page, sort)
        seen += [item.sku for item in page.items]
        step = 0
        while page.has_next:
            assert step <= len(rows) + 3 * len(churn) + 2, "the walk does not end"
            added, picks = churn[step] if step < len(churn) else ([], [])
            step += 1
            new_rows = [{**row, "sku": f"n{step}-{i}"} for i, row in enumerate(added)]
            await aw(writes.create_many(new_rows))
            present = sorted((item.id, item.sku) for item in await aw(writes.list()))
            for pick in picks:
                if present:
                    victim_id, victim_sku = present.pop(pick % len(present))
                    await aw(writer.execute(Item.__table__.delete().where(Item.id == victim_id)))
                    deleted.add(victim_sku)
            await aw(writer.commit())
            await aw(session.commit())  # end the reader's snapshot: see the changes
            page = await _page(repo, page.next_cursor, per_page, sort)
            seen += [item.sku for item in page.items]
        assert len(seen) == len(set(seen)), "a row was seen twice"
        assert stable - deleted <= set(seen), "a row present throughout was missed"
    finally:
        await aw(writer.close())
        await aw(session.close())
