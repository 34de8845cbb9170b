"""The one place that builds SQL for both repositories.

Everything here is pure: it takes a resolved [`RepositorySpec`][] and a dialect name and
returns SQLAlchemy statements. The sync and async repositories only execute them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList

from backendkit.listing._filters import Condition
from backendkit.repository._filters import FilterField, condition_clause
from backendkit.repository._keyset import keyset_pieces
from backendkit.repository._sorting import (
    SortField,
    SortKey,
    has_nulls_clause,
    order_by_clauses,
)

__all__ = ["KEY_LABEL", "RepositorySpec", "Statements"]

ModelT = TypeVar("ModelT")
T = TypeVar("T")

#: Labels of the sort-key columns added to keyset queries (read back for the cursors).
KEY_LABEL = "_bk_key{}"
# Names of the bound cursor values in keyset conditions.
_VALUE = "_bk_c{}"
# Name of the bound ids of get_many (one array per key column on PostgreSQL).
_IDS = "_bk_ids"
_CACHE_SIZE = 512


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
    eager: bool = False


class Statements(Generic[ModelT]):
    """Builds every statement a repository runs, for one dialect."""

    def __init__(self, spec: RepositorySpec[ModelT], dialect: str) -> None:
        self.spec = spec
        self.dialect = dialect
        self._cache: dict[Hashable, Any] = {}

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

    def by_identities(self, *, include_deleted: bool = False) -> Select[Any]:
        """The base query for rows whose primary key is among bound ids (built once).

        PostgreSQL binds every id as one array, whatever their number: ``pk = ANY(:ids)``,
        or for a composite key one array per column, ``(a, b) IN (SELECT * FROM
        unnest(:ids0, :ids1))``. Elsewhere ``pk IN (:ids)`` is an expanding parameter
        (row values for a composite key), one host parameter per value, so long lists are
        sent in chunks. ``identity_params`` gives the parameters.
        """

        def build() -> Select[Any]:
            pk = self.spec.primary_key
            if self.dialect == "postgresql" and len(pk) == 1:
                ids = bindparam(_IDS, type_=postgresql.ARRAY(pk[0].type))
                clause: ColumnElement[bool] = pk[0] == any_(ids)
            elif self.dialect == "postgresql":
                arrays = [
                    bindparam(f"{_IDS}{i}", type_=postgresql.ARRAY(column.type))
                    for i, column in enumerate(pk)
                ]
                names = [f"k{i}" for i in range(len(pk))]
                rows = func.unnest(*arrays).table_valued(*names).render_derived()
                clause = tuple_(*pk).in_(select(*(rows.c[name] for name in names)))
            elif len(pk) == 1:
                clause = pk[0].in_(bindparam(_IDS, expanding=True))
            else:
                clause = tuple_(*pk).in_(bindparam(_IDS, expanding=True))
            return self.base(include_deleted=include_deleted).where(clause)

        return self._memo(("identities", include_deleted), build)

    def identity_params(self, idents: Sequence[Any]) -> dict[str, Any]:
        """The bound parameters of ``by_identities`` for these validated ids (at least one)."""
        if self.dialect == "postgresql" and len(self.spec.primary_key) > 1:
            columns = zip(*idents, strict=True)
            return {f"{_IDS}{i}": list(values) for i, values in enumerate(columns)}
        return {_IDS: list(idents)}

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
    def _memo(self, key: Hashable, build: Callable[[], T]) -> T:
        # Statement parts are immutable, so the ones that depend only on the sort (and, for
        # unfiltered listings, whole statements) are built once and reused: building
        # SQLAlchemy expressions costs more than running a 20-row indexed query.
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            found = self._cache[key] = build()
        return cast(T, found)

    def order_clauses(self, keys: Sequence[SortKey]) -> tuple[ColumnElement[Any], ...]:
        """ORDER BY terms for ``keys`` (cached)."""
        return self._memo(
            ("order", tuple(keys)), lambda: tuple(order_by_clauses(keys, self.dialect))
        )

    def ordered(
        self, base: Select[Any], keys: Sequence[SortKey], *, cache_key: Hashable = None
    ) -> Select[Any]:
        """The base query in the given key order (NULLs placed alike on every database).

        ``cache_key`` identifies ``base`` when it is one of the repository's fixed base
        queries, so the ordered statement is built once.
        """
        if cache_key is None:
            return base.order_by(*self.order_clauses(keys))
        return self._memo(
            ("ordered", tuple(keys), cache_key),
            lambda: base.order_by(*self.order_clauses(keys)),
        )

    def offset_page(
        self,
        base: Select[Any],
        keys: Sequence[SortKey],
        offset: int,
        limit: int,
        *,
        cache_key: Hashable = None,
    ) -> Select[Any]:
        """One offset page."""
        stmt = self.ordered(base, keys, cache_key=cache_key).limit(limit)
        return stmt.offset(offset) if offset else stmt

    def keyset_page(
        self,
        base: Select[Any],
        keys: Sequence[SortKey],
        values: Sequence[Any] | None,
        limit: int,
        *,
        inclusive: bool = False,
        cache_key: Hashable = None,
    ) -> tuple[Select[Any], dict[str, Any]]:
        """One keyset page in walk order, and the parameters to run it with.

        Rows are ``(entity, key values...)``. ``keys`` are in walk order (reversed to go
        backwards). Cursor values are bound parameters, so the statement depends only on
        the sort, on which values are NULL and on the base (cached when ``cache_key``
        names it). When NULLs after the cursor make several index ranges, each is a LIMITed
        branch of a UNION ALL of primary keys that the page joins to, so every part stays
        an index scan whatever the depth.
        """
        pattern = None if values is None else tuple(value is None for value in values)
        params: dict[str, Any] = {}
        if values is not None:
            params = {
                _VALUE.format(i): value for i, value in enumerate(values) if value is not None
            }

        def build() -> Select[Any]:
            return self._keyset_statement(base, tuple(keys), pattern, limit, inclusive)

        if cache_key is None:
            return build(), params
        key = ("keyset", tuple(keys), pattern, limit, inclusive, cache_key)
        return self._memo(key, build), params

    def _keyset_statement(
        self,
        base: Select[Any],
        keys: tuple[SortKey, ...],
        pattern: tuple[bool, ...] | None,
        limit: int,
        inclusive: bool,
    ) -> Select[Any]:
        labels = [key.column.label(KEY_LABEL.format(i)) for i, key in enumerate(keys)]
        order = self.order_clauses(keys)
        stmt = base.add_columns(*labels)
        pieces = None  # the first page: every row
        if pattern is not None:
            values = [
                None if is_null else bindparam(_VALUE.format(i), type_=key.column.type)
                for i, (key, is_null) in enumerate(zip(keys, pattern, strict=True))
            ]
            pieces = keyset_pieces(keys, values, dialect=self.dialect, inclusive=inclusive)
        parts = self._index_parts(keys, pieces)
        if len(parts) <= 1:
            # One part: its order is the page's order for the rows it can hold.
            where, part_order = parts[0] if parts else (false(), order)
            stmt = stmt if where is None else stmt.where(where)
            return stmt.order_by(*part_order).limit(limit)
        pk = self.spec.primary_key
        pk_labels = [f"_bk_pk{i}" for i in range(len(pk))]
        branches = []
        for piece, piece_order in parts:
            ids_of = base.with_only_columns(
                *(c.label(n) for c, n in zip(pk, pk_labels, strict=True))
            )
            branch = (
                (ids_of if piece is None else ids_of.where(piece))
                .order_by(*piece_order)
                .limit(limit)
                .subquery()
            )
            # SQLite refuses ORDER BY/LIMIT directly inside a compound SELECT.
            branches.append(select(*(branch.c[n] for n in pk_labels)))
        ids = union_all(*branches).subquery("_bk_ids")
        on = and_(*(column == ids.c[name] for column, name in zip(pk, pk_labels, strict=True)))
        return stmt.join(ids, on).order_by(*order).limit(limit)

    def _index_parts(
        self, keys: tuple[SortKey, ...], pieces: Sequence[ColumnElement[bool]] | None
    ) -> list[tuple[ColumnElement[bool] | None, tuple[ColumnElement[Any], ...]]]:
        """Each keyset piece (``None``: the first page) with an ORDER BY an index serves.

        Without ``NULLS FIRST/LAST`` (MySQL, MariaDB) a nullable leading key ``a`` is
        ordered by ``a IS NULL, a``, which no index on ``(a, ...)`` serves: every page would
        sort its whole range. But each keyset piece holds only non-NULL ``a`` (it compares
        ``a``, or says ``a IS NOT NULL``) or only NULL ``a`` (it starts with ``a IS NULL``),
        so it is ordered by ``a, ...`` or by the keys after ``a``, both index ranges; the
        first page becomes those two parts. The page's outer ORDER BY merges the parts.
        """
        lead = keys[0]
        if has_nulls_clause(self.dialect) or not lead.nullable:
            order = self.order_clauses(keys)
            return [(None, order)] if pieces is None else [(piece, order) for piece in pieces]
        values_order = self.order_clauses((replace(lead, nullable=False), *keys[1:]))
        nulls_order = self.order_clauses(keys[1:])
        null = lead.column.is_(None)
        if pieces is None:
            return [(lead.column.is_not(None), values_order), (null, nulls_order)]
        return [
            (piece, nulls_order if _starts_with(piece, null) else values_order) for piece in pieces
        ]


def _starts_with(piece: ColumnElement[bool], clause: ColumnElement[bool]) -> bool:
    """``piece`` is ``clause`` or ``clause AND ...`` (how keyset pieces fix a NULL key)."""
    first = piece
    if isinstance(piece, BooleanClauseList) and piece.operator is operators.and_:
        first = piece.clauses[0]
    return bool(first.compare(clause))
