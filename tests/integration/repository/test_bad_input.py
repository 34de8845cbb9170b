"""Values a real database refuses reach clients as 400 BAD_REQUEST, never as a 500.

NUL in PostgreSQL text (psycopg refuses it on the client without a SQLSTATE, asyncpg gets
22021 from the server), text longer than its column (22001 / MariaDB 1406) and a number
out of its column's range (22003 / MariaDB 1264), through ``create`` and ``update`` of the
sync and async repositories. A data exception that is our own bug (division by zero,
22012) stays an INTERNAL_ERROR. SQLite stores all of these values: its rows are the twins
that show the values themselves are fine there.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from tests.integration.repository.conftest import Db, aw
from tests.integration.repository.models import ITEMS

from backendkit._db_errors import BAD_INPUT_MESSAGE
from backendkit.errors import BadRequest, InternalError

TOO_LONG = "n" * 41  # name is String(40)
OUT_OF_RANGE = Decimal("123456789012.50")  # price is Numeric(10, 2)


def _clean(error: BadRequest) -> None:
    """The generic 400: no SQL, table, column, value or driver text."""
    assert (error.code, error.status) == ("BAD_REQUEST", 400)
    assert error.message == BAD_INPUT_MESSAGE
    assert error.details == ()
    text = f"{error} {error.details}"
    for word in ("INSERT", "UPDATE", "bk_items", "name", "price", "nnnn", "ab", "psycopg"):
        assert word not in text


def _refuses(db: Db, value_kind: str) -> bool:
    """Whether this backend refuses the value (SQLite stores anything; MariaDB stores NUL)."""
    if db.dialect == "sqlite":
        return False
    if value_kind == "nul":
        return db.dialect == "postgresql"
    return True


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("nul", {"name": "ab\x00cd"}),
        ("too_long", {"name": TOO_LONG}),
        ("out_of_range", {"name": "x", "price": OUT_OF_RANGE}),
    ],
)
async def test_create_with_a_refused_value_is_bad_request(
    db: Db, kind: str, data: dict[str, Any]
) -> None:
    """create(): BAD_REQUEST where the database refuses the value; stored where it does not."""
    repo = db.repo(ITEMS)
    row = {"sku": f"sku-{kind}", **data}
    if _refuses(db, kind):
        with pytest.raises(BadRequest) as caught:
            await aw(repo.create(row))
        _clean(caught.value)
        await db.rollback()
    else:
        created = await aw(repo.create(row))
        await db.commit()
        for key, value in data.items():
            assert getattr(created, key) == value
    # The session is usable afterwards, and a valid twin is stored.
    twin = await aw(repo.create({"sku": f"ok-{kind}", "name": "fine", "price": Decimal("9.99")}))
    await db.commit()
    assert twin.id is not None


@pytest.mark.parametrize(
    ("kind", "changes"),
    [
        ("nul", {"name": "ab\x00cd"}),
        ("too_long", {"name": TOO_LONG}),
        ("out_of_range", {"price": OUT_OF_RANGE}),
    ],
)
async def test_update_with_a_refused_value_is_bad_request(
    db: Db, kind: str, changes: dict[str, Any]
) -> None:
    """update(): the same mapping when the refused value arrives on an existing row."""
    repo = db.repo(ITEMS)
    item = await aw(repo.create({"sku": f"upd-{kind}", "name": "before"}))
    await db.commit()
    item_id = item.id  # read now: a rollback expires the instance
    if _refuses(db, kind):
        with pytest.raises(BadRequest) as caught:  # update() flushes: the database answers
            await aw(repo.update(item_id, changes))
        _clean(caught.value)
        await db.rollback()
    else:
        await aw(repo.update(item_id, changes))
        await db.commit()
    renamed = await aw(repo.update(item_id, {"name": "after"}))  # the valid twin
    await db.commit()
    assert renamed.name == "after"


async def test_division_by_zero_stays_an_internal_error(db: Db) -> None:
    """22012 is a data exception of our own making: INTERNAL_ERROR, not BAD_REQUEST."""
    repo = db.repo(ITEMS)
    await aw(repo.create({"sku": "div", "name": "x"}))
    await db.commit()
    if db.dialect != "postgresql":
        # SQLite and MariaDB answer 1/0 with NULL, not an error: nothing to map there.
        assert await aw(repo.count(sa.text("1 / (score - score) = 1 OR 1 / 0 = 1"))) == 0
        return
    with pytest.raises(InternalError) as caught:
        await aw(repo.count(sa.text("1 / (score - score) = 1 OR 1 / 0 = 1")))
    assert caught.value.message == "An unexpected error occurred"
    await db.rollback()
    assert await aw(repo.count()) == 1  # the twin: the same query without the division
