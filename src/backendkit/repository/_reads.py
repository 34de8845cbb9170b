"""Read operations, written once as generators (see ``_steps``) for both repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.orm.interfaces import ORMOption

from backendkit._listing import CursorState
from backendkit.cursor import cursor_binding
from backendkit.errors import ConfigurationError, ErrorDetail, ValidationFailed
from backendkit.pagination import CursorPage, CursorParams, Page, PageParams
from backendkit.repository._core import RepositoryCore
from backendkit.repository._counting import Counting, estimate_flow
from backendkit.repository._filters import Condition
from backendkit.repository._sorting import SortKey, canonical_sort
from backendkit.repository._steps import Execute, Flow

__all__ = ["ReadFlows"]

ModelT = TypeVar("ModelT")


def _hashable(ident: Any) -> Any:
    # A composite key may come as a list; dict.fromkeys needs it hashable.
    return tuple(ident) if isinstance(ident, list) else ident


class ReadFlows(RepositoryCore[ModelT]):
    """get, get_many, exists, count, list, list_page and list_cursor."""

    def _flow_get_many(
        self, idents: Iterable[Any], options: Sequence[ORMOption], include_deleted: bool
    ) -> Flow[list[ModelT]]:
        wanted = list(dict.fromkeys(_hashable(ident) for ident in idents))
        if not wanted:
            return []
        stmt = self.statements.base(include_deleted=include_deleted).where(
            self.statements.identities(wanted)
        )
        found: list[ModelT] = yield Execute(
            self.statements.with_options(stmt, options), unique=self._unique(options)
        )
        by_id = {self._identity_of(obj): obj for obj in found}
        return [by_id[ident] for ident in wanted if ident in by_id]

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
        per_page = params.per_page
        offset = (params.page - 1) * per_page
        limit = self.max_offset
        if limit is not None and offset > limit:
            raise ValidationFailed(
                "Page out of range",
                details=[ErrorDetail("page", f"must be at most {limit // per_page + 1}")],
            )
        keys = self.sort_keys(sort)
        base, _, cache_key = self._select(where, filters, include_deleted)
        fetch = per_page if count == "exact" else per_page + 1
        stmt = self.statements.with_options(
            self.statements.offset_page(base, keys, offset, fetch, cache_key=cache_key), options
        )
        rows: list[ModelT] = yield Execute(stmt, unique=self._unique(options))
        items = rows[:per_page]
        # A short, non-empty page (or an empty first page) tells the exact total for free.
        known = (
            offset + len(items)
            if (items and len(rows) < per_page) or (offset == 0 and not rows)
            else None
        )
        if count == "none":
            return Page(items, params.page, per_page, None, len(rows) > per_page)
        if count == "exact":
            total = known
            if total is None:
                total = int((yield Execute(self.statements.count(base), "scalar")))
            return Page(items, params.page, per_page, total, offset + len(items) < total)
        if count != "estimated":
            raise ValueError(f"unknown count strategy {count!r}")
        has_next = len(rows) > per_page
        total = known
        if total is None:
            total = yield from estimate_flow(self.statements, base, self.estimate_threshold)
            if items:  # an estimate may be stale: never contradict what this page shows
                total = max(total, offset + len(items) + (1 if has_next else 0))
        return Page(items, params.page, per_page, total, has_next)

    def _binding(self, keys: Sequence[SortKey], conditions: Sequence[Condition]) -> str:
        table = getattr(self.model, "__tablename__", self._name)
        return cursor_binding(
            canonical_sort(keys), [c.canonical() for c in conditions], scope=f"repo:{table}"
        )

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
        binding = self._binding(keys, conditions)
        state: CursorState | None = None
        if params.cursor:
            state = CursorState.from_payload(
                codec.decode(params.cursor, binding=binding), len(keys)
            )
        backward = state is not None and state.backward
        walk = [key.reversed() for key in keys] if backward else list(keys)
        per_page = params.per_page
        stmt, values = self.statements.keyset_page(
            base,
            walk,
            None if state is None else state.values,
            per_page + 1,
            inclusive=state is not None and state.inclusive,
            cache_key=cache_key,
        )
        rows = yield Execute(
            self.statements.with_options(stmt, options),
            "rows",
            params=values,
            unique=self._unique(options),
        )
        more = len(rows) > per_page
        rows = list(rows[:per_page])
        if backward:
            rows.reverse()
        items: list[ModelT] = [row[0] for row in rows]
        key_values = [tuple(row[1:]) for row in rows]

        def token(values: Sequence[Any], back: bool, inclusive: bool = False) -> str:
            payload = CursorState(tuple(values), back, inclusive).to_payload()
            return codec.encode(payload, binding=binding)

        has_next = True if backward else more
        has_prev = more if backward else state is not None
        next_cursor = prev_cursor = None
        if key_values:
            if has_next:
                next_cursor = token(key_values[-1], False)
            if has_prev:
                prev_cursor = token(key_values[0], True)
        elif state is not None:
            # Nothing beyond the cursor (rows were deleted, or the end was reached): offer
            # the way back, starting at the cursor's own row.
            if backward:
                has_prev = False
                next_cursor = token(state.values, False, True)
            else:
                has_next = False
                prev_cursor = token(state.values, True, True)
        return CursorPage(items, per_page, next_cursor, prev_cursor, has_next, has_prev)
