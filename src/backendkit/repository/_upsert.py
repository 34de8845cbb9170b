"""Dialect-native upserts: one atomic statement, never a look-up followed by a write.

* PostgreSQL and SQLite: ``INSERT ... ON CONFLICT (cols) DO UPDATE SET ... RETURNING``.
* MySQL/MariaDB: ``INSERT ... ON DUPLICATE KEY UPDATE ...`` (the conflict target is any
  unique key of the table: MySQL cannot name one), then the rows are read back by key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Insert, Select, and_, select, tuple_
from sqlalchemy.dialects import mysql, postgresql, sqlite

from backendkit.errors import ConfigurationError
from backendkit.repository._statements import RepositorySpec

__all__ = ["dedupe_rows", "reread_statement", "upsert_statement", "upsert_supports_returning"]

_NATIVE_RETURNING = frozenset({"postgresql", "sqlite"})


def upsert_supports_returning(dialect: str) -> bool:
    """Whether the upsert returns its rows itself (else they are read back by key)."""
    return dialect in _NATIVE_RETURNING


def dedupe_rows(rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]) -> list[dict[str, Any]]:
    """Keep the last row per conflict key: one statement may not update a row twice."""
    by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        by_key[tuple(row[name] for name in conflict)] = dict(row)
    return list(by_key.values())


def _update_names(
    spec: RepositorySpec[Any],
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    update: Sequence[str] | None,
) -> list[str]:
    if update is not None:
        return list(update)
    given = {name for row in rows for name in row}
    skip = set(conflict) | set(spec.primary_key_names)
    return sorted(given - skip)


def upsert_statement(
    spec: RepositorySpec[Any],
    dialect: str,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
) -> Insert:
    """Build the native upsert for ``rows`` (already de-duplicated, same keys each)."""
    model = spec.model
    table = getattr(model, "__table__")  # noqa: B009 - mapped classes have one
    names = _update_names(spec, rows, conflict, update)
    if spec.updated_at_name and spec.updated_at_name not in names:
        names.append(spec.updated_at_name)
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(model).values(list(rows))
        excluded = stmt.excluded
        set_: dict[str, Any] = {name: excluded[_column_name(table, spec, name)] for name in names}
        if spec.version_name:
            set_[spec.version_name] = getattr(model, spec.version_name) + 1
        if not set_:
            # Nothing to change: still "update" a key to itself so RETURNING yields the row.
            set_ = {conflict[0]: excluded[_column_name(table, spec, conflict[0])]}
        return stmt.on_conflict_do_update(
            index_elements=[getattr(model, name) for name in conflict], set_=set_
        ).returning(model)
    if dialect in ("mysql", "mariadb"):
        stmt_my = mysql.insert(model).values(list(rows))
        inserted = stmt_my.inserted
        updates: dict[str, Any] = {
            _column_name(table, spec, name): inserted[_column_name(table, spec, name)]
            for name in names
        }
        if spec.version_name:
            updates[_column_name(table, spec, spec.version_name)] = (
                getattr(model, spec.version_name) + 1
            )
        if not updates:
            first = _column_name(table, spec, conflict[0])
            updates = {first: getattr(model, conflict[0])}
        return stmt_my.on_duplicate_key_update(updates)
    raise ConfigurationError(
        f"upsert supports PostgreSQL, SQLite and MySQL/MariaDB, not the {dialect!r} dialect"
    )


def _column_name(table: Any, spec: RepositorySpec[Any], name: str) -> str:
    # Attribute names and column names may differ; excluded/inserted use column names.
    attribute = getattr(spec.model, name)
    column: ColumnElement[Any] = attribute.expression
    for candidate in column.proxy_set:
        if getattr(candidate, "table", None) is table:
            return str(candidate.name)
    return name


def reread_statement(
    spec: RepositorySpec[Any], rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> Select[Any]:
    """Read upserted rows back by their conflict key (MySQL/MariaDB have no RETURNING here)."""
    model = spec.model
    columns = [getattr(model, name) for name in conflict]
    if len(columns) == 1:
        clause: ColumnElement[bool] = columns[0].in_([row[conflict[0]] for row in rows])
    elif len(rows) == 1:
        clause = and_(*(c == rows[0][n] for c, n in zip(columns, conflict, strict=True)))
    else:
        clause = tuple_(*columns).in_([tuple(row[n] for n in conflict) for row in rows])
    return select(model).where(clause).execution_options(populate_existing=True)
