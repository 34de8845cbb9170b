"""The one place that builds SQL for both repositories.

Everything here is pure: it takes a resolved [`RepositorySpec`][] and a dialect name and
returns SQLAlchemy statements. The sync and async repositories only execute them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm.interfaces import ORMOption

from backendkit.repository._filters import Condition, FilterField, condition_clause
from backendkit.repository._keyset import keyset_pieces
from backendkit.repository._sorting import SortField, SortKey, order_by_clauses

__all__ = ["KEY_LABEL", "RepositorySpec", "Statements"]

ModelT = TypeVar("ModelT")

#: Labels of the sort-key columns added to keyset queries (read back for the cursors).
KEY_LABEL = "_bk_key{}"


@dataclass(frozen=True)
class RepositorySpec(Generic[ModelT]):
    """A repository's resolved configuration (built once per repository class)."""

    model: type[ModelT]
    primary_key: tuple[ColumnElement[Any], ...]
    primary_key_names: tuple[str, ...]
    filters: Mapping[str, FilterField]
    sorts: Mapping[str, SortField]
    default_sort: str | None
    columns: frozenset[str]
    soft_delete: ColumnElement[Any] | None = None
    soft_delete_name: str | None = None
    version_name: str | None = None
    updated_at_name: str | None = None
    options: tuple[ORMOption, ...] = field(default=())


class Statements(Generic[ModelT]):
    """Builds every statement a repository runs, for one dialect."""

    def __init__(self, spec: RepositorySpec[ModelT], dialect: str) -> None:
        self.spec = spec
        self.dialect = dialect

    # -- selection -------------------------------------------------------------------
    def base(
        self,
        where: Sequence[ColumnElement[bool]] = (),
        conditions: Sequence[Condition] = (),
        *,
        include_deleted: bool = False,
    ) -> Select[Any]:
        """``SELECT model`` with trusted ``where`` clauses, parsed filters and soft delete."""
        stmt = select(self.spec.model)
        if self.spec.soft_delete is not None and not include_deleted:
            stmt = stmt.where(self.spec.soft_delete.is_(None))
        for clause in where:
            stmt = stmt.where(clause)
        for condition in conditions:
            stmt = stmt.where(condition_clause(condition, self.spec.filters[condition.field]))
        return stmt

    def identity(self, ident: Any) -> ColumnElement[bool]:
        """``pk = :ident`` (a tuple for a composite primary key)."""
        pk = self.spec.primary_key
        if len(pk) == 1:
            return cast("ColumnElement[bool]", pk[0] == ident)
        values = tuple(ident)
        if len(values) != len(pk):
            raise ValueError(f"expected {len(pk)} primary-key values")
        return and_(*(column == value for column, value in zip(pk, values, strict=True)))

    def identities(self, idents: Sequence[Any]) -> ColumnElement[bool]:
        """``pk IN (...)`` as one expanding parameter (row values for a composite key)."""
        pk = self.spec.primary_key
        if not idents:
            return false()
        if len(pk) == 1:
            return pk[0].in_(list(idents))
        return tuple_(*pk).in_([tuple(ident) for ident in idents])

    def with_options(self, stmt: Select[Any], options: Sequence[ORMOption]) -> Select[Any]:
        """Apply the repository's default loader options, then the call's."""
        chosen = (*self.spec.options, *options)
        return stmt.options(*chosen) if chosen else stmt

    def count(self, base: Select[Any]) -> Select[Any]:
        """COUNT over the base query as a subquery: right with DISTINCT and joins."""
        inner = base.order_by(None).limit(None).offset(None).subquery()
        return select(func.count()).select_from(inner)

    def exists(self, base: Select[Any]) -> Select[Any]:
        """``SELECT EXISTS (SELECT 1 ...)``."""
        return select(base.with_only_columns(literal_column("1")).order_by(None).exists())

    # -- paging ----------------------------------------------------------------------
    def ordered(self, base: Select[Any], keys: Sequence[SortKey]) -> Select[Any]:
        """The base query in the given key order (NULLs placed alike on every database)."""
        return base.order_by(*order_by_clauses(keys, self.dialect))

    def offset_page(
        self, base: Select[Any], keys: Sequence[SortKey], offset: int, limit: int
    ) -> Select[Any]:
        """One offset page."""
        stmt = self.ordered(base, keys).limit(limit)
        return stmt.offset(offset) if offset else stmt

    def keyset_page(
        self,
        base: Select[Any],
        keys: Sequence[SortKey],
        values: Sequence[Any] | None,
        limit: int,
        *,
        inclusive: bool = False,
    ) -> Select[Any]:
        """One keyset page in walk order; rows are ``(entity, key values...)``.

        ``keys`` are in walk order (reversed to go backwards). When NULLs after the cursor
        make several index ranges, each is a LIMITed branch of a UNION ALL of primary keys
        that the page joins to, so every part stays an index scan whatever the depth.
        """
        labels = [key.column.label(KEY_LABEL.format(i)) for i, key in enumerate(keys)]
        order = order_by_clauses(keys, self.dialect)
        stmt = base.add_columns(*labels)
        if values is None:
            return stmt.order_by(*order).limit(limit)
        pieces = keyset_pieces(keys, values, dialect=self.dialect, inclusive=inclusive)
        if len(pieces) <= 1:
            return stmt.where(pieces[0] if pieces else false()).order_by(*order).limit(limit)
        pk = self.spec.primary_key
        pk_labels = [f"_bk_pk{i}" for i in range(len(pk))]
        branches = []
        for piece in pieces:
            branch = (
                base.with_only_columns(*(c.label(n) for c, n in zip(pk, pk_labels, strict=True)))
                .where(piece)
                .order_by(*order)
                .limit(limit)
                .subquery()
            )
            # SQLite refuses ORDER BY/LIMIT directly inside a compound SELECT.
            branches.append(select(*(branch.c[n] for n in pk_labels)))
        ids = union_all(*branches).subquery("_bk_ids")
        on = and_(*(column == ids.c[name] for column, name in zip(pk, pk_labels, strict=True)))
        return stmt.join(ids, on).order_by(*order).limit(limit)
