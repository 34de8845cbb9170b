"""Small helpers that look at mapped attributes and columns."""

from __future__ import annotations

import re
from typing import Any, TypeAlias

from sqlalchemy import Column, ColumnElement, inspect
from sqlalchemy.orm import InstrumentedAttribute, Mapper

__all__ = [
    "ColumnLike",
    "as_column",
    "camel",
    "declared_python_type",
    "is_nullable",
    "primary_key",
    "python_type_of",
]

#: A mapped attribute (``User.email``) or any SQL column expression.
ColumnLike: TypeAlias = "InstrumentedAttribute[Any] | ColumnElement[Any]"

_CAMEL = re.compile(r"_([a-z0-9])")


def as_column(value: ColumnLike) -> ColumnElement[Any]:
    """Return the SQL expression for a mapped attribute or column."""
    if isinstance(value, InstrumentedAttribute):
        return value.expression
    if isinstance(value, ColumnElement):
        return value
    raise TypeError(f"expected a mapped attribute or a column expression, got {value!r}")


def _table_column(expr: ColumnElement[Any]) -> Column[Any] | None:
    # An ORM attribute's expression is an annotated Column; its proxy set holds the Column.
    for candidate in getattr(expr, "proxy_set", ()):
        if isinstance(candidate, Column):
            return candidate
    return None


def is_nullable(expr: ColumnElement[Any]) -> bool:
    """True unless the expression is a table column declared NOT NULL (or part of the PK)."""
    column = _table_column(expr)
    if column is None:
        return True
    return bool(column.nullable) and not column.primary_key


def declared_python_type(expr: ColumnElement[Any]) -> type[Any] | None:
    """The Python type values of this column have, or ``None`` when its type does not say."""
    try:
        found: type[Any] = expr.type.python_type
    except NotImplementedError:  # SQLAlchemy's answer for a type without one
        return None
    return found


def python_type_of(expr: ColumnElement[Any]) -> type[Any]:
    """The Python type values of this column have (``str`` when the type does not say)."""
    return declared_python_type(expr) or str


def primary_key(model: type[Any]) -> tuple[ColumnElement[Any], ...]:
    """The mapped primary-key columns of ``model``."""
    mapper: Mapper[Any] = inspect(model)
    return tuple(mapper.primary_key)


def camel(name: str) -> str:
    """``created_at`` -> ``createdAt``: how a column is named on the wire."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)
