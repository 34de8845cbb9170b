"""Allowlisted sorting: ``"-createdAt,name"`` -> ORDER BY with a primary-key tie-breaker.

NULLs sort the same way on every database: a NULL is greater than every value, so it comes
last in ascending order and first in descending order (PostgreSQL's default). PostgreSQL and
SQLite say so with ``NULLS LAST``/``NULLS FIRST``; MySQL/MariaDB have no such clause, so the
order starts with an ``IS NULL`` expression for each nullable column instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement

from backendkit.repository._columns import ColumnLike, as_column, is_nullable

__all__ = ["SortField", "SortKey", "has_nulls_clause", "order_by_clauses", "resolve_sort"]

# Dialects with NULLS FIRST / NULLS LAST in ORDER BY.
_NULLS_CLAUSE_DIALECTS = frozenset({"postgresql", "sqlite"})


class SortField:
    """A field clients may sort by.

    Args:
        column: The mapped attribute or SQL expression sorted on.
        nullable: Whether the column can hold NULL; detected from a table column,
            assumed for other expressions. NOT NULL columns get simpler, faster SQL.

    Example:
        >>> from sqlalchemy import column, Integer
        >>> SortField(column("age", Integer), nullable=False).nullable
        False
    """

    __slots__ = ("column", "nullable")

    def __init__(self, column: ColumnLike, *, nullable: bool | None = None) -> None:
        self.column: ColumnElement[Any] = as_column(column)
        self.nullable: bool = is_nullable(self.column) if nullable is None else nullable

    def __repr__(self) -> str:
        return f"SortField({self.column!r}, nullable={self.nullable})"


@dataclass(frozen=True, slots=True)
class SortKey:
    """One resolved ORDER BY term: the wire ``name``, its column and direction."""

    name: str
    column: ColumnElement[Any]
    descending: bool
    nullable: bool

    def reversed(self) -> SortKey:
        """The same key in the opposite direction (for walking backwards)."""
        return SortKey(self.name, self.column, not self.descending, self.nullable)


def resolve_sort(
    parsed: Sequence[tuple[str, bool]],
    fields: Mapping[str, SortField],
    primary_key: Sequence[ColumnElement[Any]],
) -> tuple[SortKey, ...]:
    """Resolve parsed names into keys and append the primary key as the final tie-breaker.

    The tie-breaker follows the direction of the last named field, so a one-direction sort
    stays one-direction (and can use a row-value comparison and a plain index).
    """
    keys = [
        SortKey(name, fields[name].column, descending, fields[name].nullable)
        for name, descending in parsed
    ]
    tail_descending = keys[-1].descending if keys else False
    used = {id(_base(key.column)) for key in keys}
    for column in primary_key:
        if id(_base(column)) not in used:
            keys.append(SortKey(f"_pk_{column.key}", column, tail_descending, False))
    return tuple(keys)


def _base(column: ColumnElement[Any]) -> Any:
    # A mapped attribute's expression and the table column are different objects for the
    # same column; compare the underlying table column when there is one.
    for candidate in getattr(column, "proxy_set", ()):
        if getattr(candidate, "table", None) is not None:
            return candidate
    return column


def has_nulls_clause(dialect: str) -> bool:
    """Whether the dialect orders NULLs with ``NULLS FIRST``/``NULLS LAST`` (not ``IS NULL``)."""
    return dialect in _NULLS_CLAUSE_DIALECTS


def order_by_clauses(keys: Sequence[SortKey], dialect: str) -> list[ColumnElement[Any]]:
    """ORDER BY terms that place NULLs identically on every database (NULL is greatest)."""
    clauses: list[ColumnElement[Any]] = []
    native_nulls = has_nulls_clause(dialect)
    for key in keys:
        term = key.column.desc() if key.descending else key.column.asc()
        if not key.nullable:
            clauses.append(term)
        elif native_nulls:
            clauses.append(term.nulls_first() if key.descending else term.nulls_last())
        else:
            # false < true: ascending "IS NULL" puts NULLs last, descending puts them first.
            flag = key.column.is_(None)
            clauses.append(flag.desc() if key.descending else flag.asc())
            clauses.append(term)
    return clauses
