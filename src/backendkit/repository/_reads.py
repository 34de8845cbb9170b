"""Read operations, written once as generators (see ``_steps``) for both repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement
from sqlalchemy.orm.interfaces import ORMOption

from backendkit.errors import ConfigurationError
from backendkit.listing import CursorPage, CursorParams, Page, PageParams
from backendkit.listing._paging import Counting, KeysetWindow, OffsetWindow
from backendkit.repository._core import RepositoryCore
from backendkit.repository._counting import estimate_flow
from backendkit.repository._many import MISSING_POLICIES, Missing, missing_error, plan_many
from backendkit.repository._steps import Execute, Flow

__all__ = ["ReadFlows"]

ModelT = TypeVar("ModelT")


class ReadFlows(RepositoryCore[ModelT]):
    """get, get_many, exists, count, list, list_page and list_cursor."""

    def _flow_get_many(
        self,
        idents: Iterable[Any],
        missing: Missing,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[list[ModelT]]:
        if missing not in MISSING_POLICIES:
            raise ValueError(f"missing must be one of {sorted(MISSING_POLICIES)}, not {missing!r}")
        plan = plan_many(self.statements, idents, self.get_many_chunk_size)
        stmt = self.statements.by_identities(include_deleted=include_deleted)
        stmt = self.statements.with_options(stmt, options)
        found: list[ModelT] = []
        for params in plan.batches:
            found += yield Execute(stmt, params=params, unique=self._unique(options))
        rows, absent = plan.match(found, self._identity_of)
        if absent and missing == "raise":
            raise missing_error(self._name, plan, absent)
        return rows

    def _flow_exists(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> Flow[bool]:
        base, _, _ = self._select(where, filters, include_deleted)
        found = yield Execute(self.statements.exists(base), "scalar")
        return bool(found)

    def _flow_count(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        include_deleted: bool,
    ) -> Flow[int]:
        base, _, _ = self._select(where, filters, include_deleted)
        total = yield Execute(self.statements.count(base), "scalar")
        return int(total)

    def _flow_list(
        self,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        limit: int | None,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[list[ModelT]]:
        base, _, cache_key = self._select(where, filters, include_deleted)
        stmt = self.statements.ordered(base, self.sort_keys(sort), cache_key=cache_key)
        if limit is not None:
            stmt = stmt.limit(limit)
        found: list[ModelT] = yield Execute(
            self.statements.with_options(stmt, options), unique=self._unique(options)
        )
        return found

    def _flow_page(
        self,
        params: PageParams,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        count: Counting,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[Page[ModelT]]:
        window = OffsetWindow.open(params, count, self.max_offset)
        keys = self.sort_keys(sort)
        base, _, cache_key = self._select(where, filters, include_deleted)
        stmt = self.statements.offset_page(
            base, keys, window.offset, window.fetch, cache_key=cache_key
        )
        rows: list[ModelT] = yield Execute(
            self.statements.with_options(stmt, options), unique=self._unique(options)
        )
        total = None
        if window.needs_total(rows) and count == "exact":
            total = int((yield Execute(self.statements.count(base), "scalar")))
        elif window.needs_total(rows):  # estimated
            total = yield from estimate_flow(self.statements, base, self.estimate_threshold)
        return window.page(rows, total)

    def _flow_cursor(
        self,
        params: CursorParams,
        where: Sequence[ColumnElement[bool]],
        filters: Mapping[str, Any] | None,
        sort: str | None,
        options: Sequence[ORMOption],
        include_deleted: bool,
    ) -> Flow[CursorPage[ModelT]]:
        codec = self.cursor_codec
        if codec is None:
            raise ConfigurationError(
                f"{type(self).__name__} needs cursor_codec=CursorCodec(...) for list_cursor"
            )
        keys = self.sort_keys(sort)
        base, conditions, cache_key = self._select(where, filters, include_deleted)
        table = getattr(self.model, "__tablename__", self._name)
        window = KeysetWindow.open(
            params,
            codec,
            keys,
            filters=[condition.canonical() for condition in conditions],
            scope=f"repo:{table}",
        )
        stmt, values = self.statements.keyset_page(
            base,
            window.walk(keys),
            window.values,
            window.fetch,
            inclusive=window.inclusive,
            cache_key=cache_key,
        )
        rows = yield Execute(
            self.statements.with_options(stmt, options),
            "rows",
            params=values,
            unique=self._unique(options),
        )
        # Rows are (entity, key values...): the keys make the cursors, the entity is the item.
        page = window.page(rows, lambda row: tuple(row[1:]))
        return page.map(lambda row: cast("ModelT", row[0]))
