"""Loader options keep listing parents with children at a fixed number of statements."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import joinedload, selectinload
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import PARENTS, Child
from tests.integration.repository.test_paging import StatementCounter

from backendkit.listing import CursorParams, PageParams


async def _family(db: Db, parents: int) -> None:
    async with db.unit_of_work() as session:
        repo = db.repo(PARENTS, session)
        for p in range(parents):
            parent = await aw(repo.create({"name": f"p{p:02d}"}))
            session.add_all([Child(parent_id=parent.id, name=f"c{c}") for c in range(3)])


@pytest.mark.parametrize(("option", "expected"), [(selectinload, 2), (joinedload, 1)])
@pytest.mark.parametrize("parents", [3, 12])
async def test_listing_parents_with_children_is_not_n_plus_one(
    db: Db, option: object, expected: int, parents: int
) -> None:
    """The statement count does not grow with the number of parents."""
    await _family(db, parents)
    repo = db.repo(PARENTS)
    loader = option(PARENTS[0].model.children)  # type: ignore[operator]
    with StatementCounter(db) as counter:
        found = await aw(repo.list(sort="name", options=[loader]))
        names = [[child.name for child in parent.children] for parent in found]
    assert names == [["c0", "c1", "c2"]] * parents
    assert len(counter.statements) == expected


async def test_paging_with_loader_options(db: Db) -> None:
    """list_page (exact count) and list_cursor add only the loader's own statements."""
    await _family(db, 8)
    repo = db.repo(PARENTS)
    with StatementCounter(db) as counter:
        page = await aw(
            repo.list_page(
                PageParams(page=1, per_page=5), options=[selectinload(PARENTS[0].model.children)]
            )
        )
        assert all(len(parent.children) == 3 for parent in page.items)
    assert len(counter.statements) == 3  # page, children, count
    with StatementCounter(db) as counter:
        cpage = await aw(
            repo.list_cursor(
                CursorParams(per_page=5),
                sort="name",
                options=[joinedload(PARENTS[0].model.children)],
            )
        )
        assert [len(parent.children) for parent in cpage.items] == [3] * 5
    assert len(counter.statements) == 1


async def test_default_load_options_apply_to_every_query(db: Db) -> None:
    """A repository's load_options are used without being passed each time."""
    await _family(db, 4)
    base = db.repo(PARENTS).__class__
    eager = type("Eager", (base,), {"load_options": (selectinload(PARENTS[0].model.children),)})
    repo = eager(db.session)
    with StatementCounter(db) as counter:
        found = await aw(repo.list())
        assert sum(len(p.children) for p in found) == 12
    assert len(counter.statements) == 2
