"""The shared page assembly and keyset plan, over an in-memory "database" with SQL's NULLs.

The repository and the Django adapter run these same pieces against real databases (see
tests/integration); here a list of rows and three-valued predicates stand in for the query
language, so every walk can be checked against a plain sort.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, CursorParams, PageParams
from backendkit.listing._keyset import Comparison, keyset_plan
from backendkit.listing._paging import KeysetWindow, OffsetWindow

CODEC = CursorCodec([b"paging-tests-key-0123456789abcdef"])
Row = tuple[Any, ...]
Predicate = Callable[[Row], "bool | None"]  # None: SQL's UNKNOWN

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "lt": operator.lt,
    "gt": operator.gt,
    "lte": operator.le,
    "gte": operator.ge,
}


@dataclass(frozen=True)
class Key:
    name: str
    index: int
    descending: bool
    nullable: bool

    def reversed(self) -> Key:
        return Key(self.name, self.index, not self.descending, self.nullable)


class Predicates:
    """``KeyAlgebra`` over Python predicates with SQL's three-valued logic."""

    def __init__(self, keys: Sequence[Key]) -> None:
        self.columns = [key.index for key in keys]

    def compare(self, i: int, op: Comparison, value: Any) -> Predicate:
        column = self.columns[i]
        return lambda row: None if row[column] is None else _OPS[op](row[column], value)

    def is_null(self, i: int, null: bool) -> Predicate:
        column = self.columns[i]
        return lambda row: (row[column] is None) == null

    def both(self, left: Predicate, right: Predicate) -> Predicate:
        def both(row: Row) -> bool | None:
            a, b = left(row), right(row)
            if a is False or b is False:
                return False
            return None if a is None or b is None else True

        return both

    def negate(self, part: Predicate) -> Predicate:
        return lambda row: None if part(row) is None else not part(row)


def _ordered(rows: Sequence[Row], keys: Sequence[Key]) -> list[Row]:
    """The database's ORDER BY: NULL greater than every value, each key in its direction."""

    def compare(x: Row, y: Row) -> int:
        for key in keys:
            a, b = x[key.index], y[key.index]
            if a == b:
                continue
            bigger = b is not None and (a is None or a > b)  # NULL is the greatest
            result = 1 if bigger else -1
            return -result if key.descending else result
        return 0

    return sorted(rows, key=cmp_to_key(compare))


def _read(rows: Sequence[Row], window: KeysetWindow, keys: Sequence[Key]) -> list[Row]:
    """What a backend does with the plan: the rows after the cursor, in walk order."""
    walk = window.walk(keys)
    chosen = list(rows)
    if window.values is not None:
        pieces = keyset_plan(Predicates(walk), walk, window.values, inclusive=window.inclusive)
        chosen = [row for row in rows if any(piece(row) is True for piece in pieces)]
    return _ordered(chosen, walk)[: window.fetch]


def _page(rows: Sequence[Row], keys: Sequence[Key], per_page: int, cursor: str | None) -> Any:
    params = CursorParams(cursor=cursor, per_page=per_page)
    window = KeysetWindow.open(params, CODEC, keys, filters=None, scope="test")
    return window.page(_read(rows, window, keys), lambda row: [row[k.index] for k in keys])


ROWS = st.lists(
    st.tuples(st.sampled_from([None, 1, 2, 2, 3]), st.sampled_from([None, "x", "y"])),
    max_size=14,
).map(lambda values: [(*value, i) for i, value in enumerate(values)])
SORTS = st.lists(
    st.tuples(st.sampled_from([0, 1]), st.booleans()), max_size=2, unique_by=lambda t: t[0]
)


@settings(deadline=None, max_examples=150)
@given(rows=ROWS, sort=SORTS, per_page=st.integers(1, 4))
def test_keyset_walks_see_every_row_once_in_order_both_ways(
    rows: list[Row], sort: list[tuple[int, bool]], per_page: int
) -> None:
    """Forward to the end, then back to the start: every row once, in the ORDER BY."""
    keys = [Key(f"k{index}", index, desc, True) for index, desc in sort]
    keys.append(Key("_pk", 2, keys[-1].descending if keys else False, False))
    expected = [row[2] for row in _ordered(rows, keys)]
    page = _page(rows, keys, per_page, None)
    assert not page.has_prev
    assert page.prev_cursor is None
    forward = [row[2] for row in page.items]
    while page.has_next:
        page = _page(rows, keys, per_page, page.next_cursor)
        forward += [row[2] for row in page.items]
    assert forward == expected
    backward = [row[2] for row in page.items]
    while page.has_prev:
        page = _page(rows, keys, per_page, page.prev_cursor)
        backward = [row[2] for row in page.items] + backward
    assert backward == expected


def test_past_the_end_offers_the_way_back() -> None:
    """A cursor with nothing after it: an empty page whose previous page ends at that row."""
    keys = [Key("_pk", 2, False, False)]
    rows = [(None, None, i) for i in range(5)]
    first = _page(rows, keys, 3, None)
    emptied = rows[:3]  # the rest were deleted
    end = _page(emptied, keys, 3, first.next_cursor)
    assert (end.items, end.has_next, end.next_cursor, end.has_prev) == ([], False, None, True)
    back = _page(emptied, keys, 3, end.prev_cursor)
    assert [row[2] for row in back.items] == [0, 1, 2]


def test_a_cursor_is_bound_to_its_sort_and_filters() -> None:
    """The same cursor opens its own listing; another sort or filter refuses it."""
    keys = [Key("a", 0, False, True), Key("_pk", 2, False, False)]
    token = _page([(1, None, 1), (2, None, 2)], keys, 1, None).next_cursor
    params = CursorParams(cursor=token, per_page=1)
    window = KeysetWindow.open(params, CODEC, keys, filters=None, scope="test")
    assert window.values == (1, 1)
    with pytest.raises(ValidationFailed):
        KeysetWindow.open(params, CODEC, keys[::-1], filters=None, scope="test")
    with pytest.raises(ValidationFailed):
        KeysetWindow.open(params, CODEC, keys, filters=["a", "eq", 1], scope="test")


@pytest.mark.parametrize(
    ("count", "rows", "total", "expected"),
    [
        ("exact", 5, 12, (12, True)),  # a full page: counted
        ("exact", 2, None, (7, False)),  # a short page tells the total
        ("none", 6, None, (None, True)),  # one extra row tells hasNext
        ("none", 5, None, (None, False)),
        ("estimated", 6, 6, (11, True)),  # a stale estimate never contradicts the page
        ("estimated", 6, 900, (900, True)),
    ],
)
def test_offset_window_totals(
    count: Any, rows: int, total: int | None, expected: tuple[int | None, bool]
) -> None:
    """Page 2 of 5: the total per strategy, counted only when the rows do not tell it."""
    window = OffsetWindow.open(PageParams(page=2, per_page=5), count, max_offset=100)
    fetched = list(range(rows))
    assert window.needs_total(fetched) == (total is not None)
    page = window.page(fetched, total)
    assert (page.total, page.has_next) == expected
    assert list(page.items) == fetched[:5]


def test_offset_window_refuses_a_page_past_the_limit() -> None:
    """Beyond max_offset is a validation error naming the last page; at the limit is fine."""
    assert OffsetWindow.open(PageParams(page=3, per_page=5), "exact", max_offset=10).offset == 10
    with pytest.raises(ValidationFailed) as caught:
        OffsetWindow.open(PageParams(page=4, per_page=5), "exact", max_offset=10)
    assert caught.value.details[0].field == "page"
    assert caught.value.details[0].message == "must be at most 3"


def test_offset_window_refuses_an_unknown_strategy_and_a_missing_total() -> None:
    """Programming mistakes are ValueErrors, not pages with made-up totals."""
    with pytest.raises(ValueError, match="unknown count strategy"):
        OffsetWindow.open(PageParams(), "approximate", max_offset=None)  # type: ignore[arg-type]
    window = OffsetWindow.open(PageParams(per_page=2), "exact", max_offset=None)
    with pytest.raises(ValueError, match="count them"):
        window.page([1, 2])
    assert window.page([1, 2], 2).total == 2
