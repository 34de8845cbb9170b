"""Keyset (cursor) conditions an index can serve, NULL-aware.

Given the sort keys (primary key last) and the key values of the row a cursor points at,
:func:`keyset_pieces` returns the rows strictly after it (or at-or-after, when inclusive)
as a short list of disjoint predicates, each one an index range:

* When every key runs the same direction, none is nullable and the dialect supports it, a
  single row-value comparison: ``(a, id) > (:a, :id)``.
* Otherwise the expanded form, nested once per key::

      a >= :a AND NOT (a = :a AND NOT (b <= :b AND NOT (b = :b AND id <= :id)))

  The first conjunct bounds an index range; the negated part only trims ties at the
  boundary. It is never a plain OR chain, which planners cannot turn into one range scan.

NULLs are greater than every value (see ``_sorting``). ``x >= :v`` is never true for a NULL
``x``, so NULL rows after the cursor (ascending keys whose cursor value is not NULL, or
descending keys whose cursor value is NULL) become extra pieces: ``a IS NULL`` or
``a = :a AND b IS NULL``. The caller runs each piece as its own index scan. With NOT NULL
columns there is always exactly one piece.

Three-valued logic is safe here: every predicate is TRUE exactly for the rows it means and
FALSE or NULL for the others, and ``NOT (a = :a AND NOT p)`` equals ``p`` when ``a = :a``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, literal, not_, tuple_

from backendkit.repository._sorting import SortKey

__all__ = ["keyset_pieces"]

# Dialects whose row-value comparison is both supported and usable as an index range.
_ROW_VALUE_DIALECTS = frozenset({"postgresql", "sqlite"})


def _after(key: SortKey, column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return cast("ColumnElement[bool]", column < value if key.descending else column > value)


def _at_or_after(key: SortKey, column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return cast("ColumnElement[bool]", column <= value if key.descending else column >= value)


def _equal(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else cast("ColumnElement[bool]", column == value)


def _bound(keys: Sequence[SortKey], values: Sequence[Any]) -> list[Any]:
    # Typed bound parameters: a boolean key must compare as a value (`flag > :p`), which
    # SQLAlchemy refuses for a bare True/False.
    return [
        None if value is None else literal(value, type_=key.column.type)
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
    values = _bound(keys, values)
    if (
        dialect in _ROW_VALUE_DIALECTS
        and len({key.descending for key in keys}) == 1
        and not any(key.nullable for key in keys)
    ):
        left = tuple_(*(key.column for key in keys))
        right = tuple_(*values)
        if keys[0].descending:
            return [left <= right if inclusive else left < right]
        return [left >= right if inclusive else left > right]
    main, extras = _pieces(keys, values, 0, inclusive)
    pieces = [] if main is None else [main]
    return pieces + extras


def _pieces(
    keys: Sequence[SortKey], values: Sequence[Any], index: int, inclusive: bool
) -> tuple[ColumnElement[bool] | None, list[ColumnElement[bool]]]:
    """``(main, extras)`` for keys[index:], given equality on every earlier key.

    ``main`` is the merged index range (None when empty); ``extras`` are NULL pieces.
    """
    key, value = keys[index], values[index]
    column = key.column
    last = index == len(keys) - 1
    if last:
        sub_main: ColumnElement[bool] | None = None
        sub_extras: list[ColumnElement[bool]] = []
    else:
        sub_main, sub_extras = _pieces(keys, values, index + 1, inclusive)
    equal = _equal(column, value)
    extras = [and_(equal, extra) for extra in sub_extras]
    nulls_follow = key.nullable and not key.descending  # NULLs come after non-NULL values
    if value is None:
        # Rows equal on this key continue with the next keys; a NULL key has no range.
        if last:
            main = equal if inclusive else None
        else:
            main = None if sub_main is None else and_(equal, sub_main)
        if key.nullable and key.descending:
            # Descending, NULLs come first: every non-NULL value is after the cursor.
            extras.append(column.is_not(None))
        return main, extras
    if last:
        main = _at_or_after(key, column, value) if inclusive else _after(key, column, value)
    elif sub_main is None:
        main = _after(key, column, value)
    else:
        main = and_(
            _at_or_after(key, column, value),
            not_(and_(column == value, not_(sub_main))),
        )
    if nulls_follow:
        extras.append(column.is_(None))
    return main, extras


