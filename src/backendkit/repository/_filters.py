"""Allowlisted filters for SQLAlchemy: ``FilterField`` and the SQL for each condition.

Parsing (query syntax, operators, typed values, errors naming the field) is shared with the
Django adapter in ``backendkit.listing._filters``.

Query syntax (one key per condition, values as strings as they come from a query string)::

    status=active            equality
    role[in]=admin,staff     membership (comma separated, or the key repeated)
    age[gte]=18&age[lt]=65   ranges: gt, gte, lt, lte
    deletedAt[null]=true     null checks
    name[search]=ann         case-insensitive substring; % and _ in the input are literal
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, or_
from sqlalchemy.sql import operators

from backendkit.listing._filters import Condition, allowed_ops
from backendkit.repository._columns import ColumnLike, as_column, python_type_of

__all__ = ["FilterField", "condition_clause"]


class FilterField:
    """A field clients may filter by, and the operators they may use on it.

    Args:
        column: The mapped attribute or SQL expression compared.
        *ops: Allowed operators, from ``OPERATORS``.
            Defaults to ``"eq"`` and ``"in"``.
        python_type: Type client values are converted to; defaults to the column's type.

    Example:
        >>> from sqlalchemy import column, Integer
        >>> sorted(FilterField(column("age", Integer), "gte", "lte").ops)
        ['gte', 'lte']
    """

    __slots__ = ("column", "ops", "python_type")

    def __init__(self, column: ColumnLike, *ops: str, python_type: type[Any] | None = None) -> None:
        self.column: ColumnElement[Any] = as_column(column)
        self.ops: frozenset[str] = allowed_ops(ops)
        self.python_type: type[Any] = python_type or python_type_of(self.column)

    def __repr__(self) -> str:
        return f"FilterField({self.column!r}, ops={sorted(self.ops)})"


def condition_clause(condition: Condition, field: FilterField) -> ColumnElement[bool]:
    """Build the SQL expression (bound parameters only) for one parsed condition."""
    column = field.column
    op, value = condition.op, condition.value
    if op == "eq":
        return column.is_(None) if value is None else cast("ColumnElement[bool]", column == value)
    if op == "ne":
        # "not equal" keeps rows whose value is NULL: they are not equal to anything.
        return or_(column != value, column.is_(None))
    if op == "in":
        return column.in_(list(value))
    if op == "null":
        return column.is_(None) if value else column.is_not(None)
    if op == "search":
        # autoescape makes %, _ and the escape character itself literal on every dialect.
        return column.icontains(value, autoescape=True)
    comparator = {"gt": operators.gt, "gte": operators.ge, "lt": operators.lt, "lte": operators.le}
    return cast("ColumnElement[bool]", comparator[op](column, value))
