"""Keyset (cursor) conditions for SQLAlchemy, NULL-aware, that an index can serve.

Given the sort keys (primary key last) and the key values of the row a cursor points at,
[`keyset_pieces`][] returns the rows strictly after it (or at-or-after, when inclusive)
as a short list of disjoint predicates, each one an index range:

* When every key runs the same direction, none is nullable and the dialect supports it, a
  single row-value comparison: ``(a, id) > (:a, :id)``.
* Otherwise the expanded form from ``backendkit.listing._keyset.keyset_plan``, nested once per
  key: ``a >= :a AND NOT (a = :a AND NOT (b <= :b AND NOT (b = :b AND id <= :id)))``.
  The first conjunct bounds an index range; the negated part only trims ties at the
  boundary. It is never a plain OR chain, which planners cannot turn into one range scan.

NULLs are greater than every value (see ``_sorting``); NULL rows after the cursor become
extra pieces (``a IS NULL``, ``a = :a AND b IS NULL``) that the caller runs as separate
index scans. With NOT NULL columns there is always exactly one piece.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, literal, not_, tuple_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ClauseElement

from backendkit.listing._keyset import Comparison, keyset_plan
from backendkit.repository._sorting import SortKey

__all__ = ["keyset_pieces"]

# Dialects whose row-value comparison is both supported and usable as an index range.
_ROW_VALUE_DIALECTS = frozenset({"postgresql", "sqlite"})

_OPERATORS: dict[Comparison, Callable[[Any, Any], Any]] = {
    "exact": operators.eq,
    "lt": operators.lt,
    "gt": operators.gt,
    "lte": operators.le,
    "gte": operators.ge,
}


class _SqlAlchemyKeys:
    """``KeyAlgebra`` over SQLAlchemy column expressions."""

    def __init__(self, keys: Sequence[SortKey]) -> None:
        self.keys = keys

    def compare(self, i: int, op: Comparison, value: Any) -> ColumnElement[bool]:
        return cast("ColumnElement[bool]", _OPERATORS[op](self.keys[i].column, value))

    def is_null(self, i: int, null: bool) -> ColumnElement[bool]:
        column = self.keys[i].column
        return column.is_(None) if null else column.is_not(None)

    def both(self, left: ColumnElement[bool], right: ColumnElement[bool]) -> ColumnElement[bool]:
        return and_(left, right)

    def negate(self, part: ColumnElement[bool]) -> ColumnElement[bool]:
        return not_(part)


def _bound(keys: Sequence[SortKey], values: Sequence[Any]) -> list[Any]:
    # Typed bound parameters: a boolean key must compare as a value (`flag > :p`), which
    # SQLAlchemy refuses for a bare True/False.
    return [
        value
        if value is None or isinstance(value, ClauseElement)
        else literal(value, type_=key.column.type)
        for key, value in zip(keys, values, strict=True)
    ]


def keyset_pieces(
    keys: Sequence[SortKey],
    values: Sequence[Any],
    *,
    dialect: str,
    inclusive: bool = False,
) -> list[ColumnElement[bool]]:
    """Return disjoint, index-friendly predicates whose union is "after the cursor".

    Args:
        keys: The sort keys, primary key last (as walked: reverse them to go backwards).
        values: The cursor row's value for each key.
        dialect: SQLAlchemy dialect name, deciding whether a row-value comparison is used.
        inclusive: Include the cursor row itself (at-or-after).
    """
    if len(keys) != len(values):
        raise ValueError("one cursor value is needed per sort key")
    bound = _bound(keys, values)
    if (
        dialect in _ROW_VALUE_DIALECTS
        and len({key.descending for key in keys}) == 1
        and not any(key.nullable for key in keys)
    ):
        left = tuple_(*(key.column for key in keys))
        right = tuple_(*bound)
        if keys[0].descending:
            return [left <= right if inclusive else left < right]
        return [left >= right if inclusive else left > right]
    return keyset_plan(_SqlAlchemyKeys(keys), keys, bound, inclusive=inclusive)
