"""Django querysets filtered, sorted and paged as the repository does it: what that means
is ``backendkit.listing``'s; this module says it with ``Q``, ``F`` and the model's fields.
Each paging function has an async twin (``apaginate_queryset``) for async views; both
drive one flow and differ only in how a queryset is evaluated."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, TypeAlias, TypeVar

from django.core.exceptions import FieldDoesNotExist  # type: ignore[import-untyped]
from django.db import connections  # type: ignore[import-untyped]
from django.db.models import F, Q, QuerySet  # type: ignore[import-untyped]

from backendkit.listing import CursorCodec, CursorPage, CursorParams, Page, PageParams
from backendkit.listing._filters import parse_filters
from backendkit.listing._paging import (
    DEFAULT_ESTIMATE_THRESHOLD,
    DEFAULT_MAX_OFFSET,
    Counting,
    KeysetWindow,
    OffsetWindow,
)
from backendkit.listing._paths import PathFilter, PathKey, after_cursor, lookup_filter, path_keys

__all__ = [
    "QueryFilter",
    "apaginate_queryset",
    "apaginate_queryset_cursor",
    "filter_queryset",
    "paginate_queryset",
    "paginate_queryset_cursor",
]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Read:
    """One evaluation a paging flow asks for: the rows of ``queryset`` (a list), its
    ``count`` or its JSON ``explain`` plan. Only this is done twice, sync and async."""

    queryset: QuerySet
    kind: Literal["rows", "count", "explain"] = "rows"


# Paging is written once, as generators that yield reads and receive their results (the
# repository's ``_steps`` idea); the sync and async functions only perform the reads.
_Flow: TypeAlias = Generator[_Read, Any, R]

# Field class (by name, along the MRO: BigIntegerField is an IntegerField) -> value type.
_PYTHON_TYPES: tuple[tuple[str, type[Any]], ...] = (
    ("BooleanField", bool),
    ("DecimalField", Decimal),
    ("FloatField", float),
    ("DateTimeField", dt.datetime),
    ("DateField", dt.date),
    ("TimeField", dt.time),
    ("UUIDField", uuid.UUID),
    ("IntegerField", int),  # AutoField too
    ("ForeignKey", int),
)


def _fields(model: Any, path: str) -> list[Any] | None:
    """The model fields along ``path`` (``author__name``); None when a step is not a field."""
    fields: list[Any] = []
    for part in path.split("__"):
        try:
            fields.append(model._meta.get_field(part))
        except (FieldDoesNotExist, AttributeError):
            return None
        model = getattr(fields[-1], "related_model", None)
    return fields


def _python_type(model: type[Any], path: str) -> type[Any]:
    fields = _fields(model, path)
    names = {cls.__name__ for cls in type(fields[-1]).__mro__} if fields else set()
    return next((kind for name, kind in _PYTHON_TYPES if name in names), str)


class QueryFilter(PathFilter):
    """A model field (or ``relation__field`` path) clients may filter a queryset by, with
    the operators they may use on it (default ``eq`` and ``in``), as the repository's
    [`FilterField`][backendkit.repository.FilterField]; ``python_type`` is by default the
    model field's (``str`` when it cannot tell)."""

    __slots__ = ()

    def bound(self, model: type[Any]) -> QueryFilter:
        """This filter with its value type read from ``model`` when none was given."""
        return self.typed(functools.partial(_python_type, model))


def filter_queryset(
    queryset: QuerySet, query: Mapping[str, Any] | None, filter_fields: Mapping[str, QueryFilter]
) -> tuple[QuerySet, list[Any]]:
    """Apply the client's allowlisted filters (the repository's query syntax; paging keys
    skipped): the queryset, and the filters applied for ``filters=`` of
    [`paginate_queryset_cursor`][backendkit.adapters.django.paginate_queryset_cursor].

    Raises:
        ValidationFailed: an unknown field, operator or a mistyped value, each named.
    """
    if not query:
        return queryset, []
    rules = {name: rule.bound(queryset.model) for name, rule in filter_fields.items()}
    conditions = parse_filters(query, rules)
    for condition in conditions:
        queryset = queryset.filter(lookup_filter(condition, rules[condition.field].path, Q))
    return queryset, [condition.canonical() for condition in conditions]


def _nullable(model: type[Any], path: str) -> bool:
    fields = _fields(model, path)
    if not fields or any(getattr(field, "null", False) for field in fields):
        return True
    return bool(getattr(fields[-1], "null", True)) and not fields[-1].primary_key


def _keys(queryset: QuerySet, sort: Any, fields: Any, default: Any) -> list[PathKey]:
    model, pk = queryset.model, queryset.model._meta.pk
    nullable, pk_paths = functools.partial(_nullable, model), (pk.name, pk.attname, "pk")
    return path_keys(
        sort, fields, default=default, nullable=nullable, pk=pk.attname, pk_paths=pk_paths
    )


def _order(key: PathKey) -> Any:
    term = F(key.path)
    if not key.nullable:
        return term.desc() if key.descending else term.asc()
    # NULL is greatest everywhere; Django emulates NULLS FIRST/LAST where SQL lacks it.
    return term.desc(nulls_first=True) if key.descending else term.asc(nulls_last=True)


def _page_flow(
    queryset: QuerySet,
    params: PageParams,
    sort: str | None,
    sort_fields: Mapping[str, str] | None,
    default_sort: str | None,
    count: Counting,
    max_offset: int | None,
    estimate_threshold: int,
) -> _Flow[Page[Any]]:
    window = OffsetWindow.open(params, count, max_offset)
    ordering = map(_order, _keys(queryset, sort, sort_fields, default_sort))
    rows = yield _Read(queryset.order_by(*ordering)[window.offset : window.offset + window.fetch])
    total = None
    if window.needs_total(rows):
        unordered = queryset.order_by()
        if count == "estimated" and connections[queryset.db].vendor == "postgresql":
            plan = json.loads((yield _Read(unordered, "explain")))
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            total = estimate if estimate >= estimate_threshold else None
        if total is None:
            total = int((yield _Read(unordered, "count")))
    return window.page(rows, total)


def _cursor_flow(
    queryset: QuerySet,
    params: CursorParams,
    codec: CursorCodec,
    sort: str | None,
    sort_fields: Mapping[str, str] | None,
    default_sort: str | None,
    filters: Any,
) -> _Flow[CursorPage[Any]]:
    keys = _keys(queryset, sort, sort_fields, default_sort)
    scope = f"django:{queryset.model._meta.db_table}"
    window = KeysetWindow.open(params, codec, keys, filters=filters, scope=scope)
    walk = window.walk(keys)
    ordered = queryset.order_by(*map(_order, walk))
    pieces = after_cursor(window, walk, Q)
    if len(pieces) > 1:
        # NULLs after the cursor make several index ranges: read each range's first
        # primary keys, then let the database order the union (its own collation).
        heads: list[Any] = []
        for piece in pieces:
            heads += yield _Read(ordered.filter(piece)[: window.fetch].values_list("pk", flat=True))
        pieces = [Q(pk__in=heads)]
    rows = yield _Read(ordered.filter(*pieces)[: window.fetch])
    return window.page(rows, lambda row: tuple(key.value_of(row) for key in keys))


def _run(flow: _Flow[R]) -> R:
    try:
        read = next(flow)
        while True:
            read = flow.send(_perform(read))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _perform(read: _Read) -> Any:
    if read.kind == "rows":
        return list(read.queryset)
    if read.kind == "count":
        return read.queryset.count()
    return read.queryset.explain(format="json")


async def _arun(flow: _Flow[R]) -> R:
    try:
        read = next(flow)
        while True:
            read = flow.send(await _aperform(read))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def _aperform(read: _Read) -> Any:
    if read.kind == "rows":
        return [row async for row in read.queryset]
    if read.kind == "count":
        return await read.queryset.acount()
    return await read.queryset.aexplain(format="json")


def paginate_queryset(
    queryset: QuerySet,
    params: PageParams,
    *,
    sort: str | None = None,
    sort_fields: Mapping[str, str] | None = None,
    default_sort: str | None = None,
    count: Counting = "exact",
    max_offset: int | None = DEFAULT_MAX_OFFSET,
    estimate_threshold: int = DEFAULT_ESTIMATE_THRESHOLD,
) -> Page[Any]:
    """One page of ``queryset`` (its ordering replaced) by number, as the repository's
    [`list_page`][backendkit.repository.Repository.list_page] reads one. ``sort_fields``:
    wire name -> model field path, nothing else sorts; ``count``: ``exact``, ``none`` or
    ``estimated`` (PostgreSQL's planner, exact below ``estimate_threshold``).

    Raises:
        ValidationFailed: a sort not allowlisted, or a page beyond ``max_offset``.
    """
    return _run(
        _page_flow(
            queryset, params, sort, sort_fields, default_sort, count, max_offset, estimate_threshold
        )
    )


async def apaginate_queryset(
    queryset: QuerySet,
    params: PageParams,
    *,
    sort: str | None = None,
    sort_fields: Mapping[str, str] | None = None,
    default_sort: str | None = None,
    count: Counting = "exact",
    max_offset: int | None = DEFAULT_MAX_OFFSET,
    estimate_threshold: int = DEFAULT_ESTIMATE_THRESHOLD,
) -> Page[Any]:
    """[`paginate_queryset`][backendkit.adapters.django.paginate_queryset] for async views:
    the same page, read with Django's async queryset API (``async for``, ``acount()``).

    Raises:
        ValidationFailed: a sort not allowlisted, or a page beyond ``max_offset``.
    """
    return await _arun(
        _page_flow(
            queryset, params, sort, sort_fields, default_sort, count, max_offset, estimate_threshold
        )
    )


def paginate_queryset_cursor(
    queryset: QuerySet,
    params: CursorParams,
    *,
    codec: CursorCodec,
    sort: str | None = None,
    sort_fields: Mapping[str, str] | None = None,
    default_sort: str | None = None,
    filters: Any = None,
) -> CursorPage[Any]:
    """One keyset page of ``queryset``, as the repository's
    [`list_cursor`][backendkit.repository.Repository.list_cursor] reads one; cursors are
    signed by ``codec`` and bound to the sort and ``filters`` (JSON-able, e.g. what
    ``filter_queryset`` applied).

    Raises:
        ValidationFailed: a sort not allowlisted, or a bad cursor (field ``cursor``).
    """
    return _run(_cursor_flow(queryset, params, codec, sort, sort_fields, default_sort, filters))


async def apaginate_queryset_cursor(
    queryset: QuerySet,
    params: CursorParams,
    *,
    codec: CursorCodec,
    sort: str | None = None,
    sort_fields: Mapping[str, str] | None = None,
    default_sort: str | None = None,
    filters: Any = None,
) -> CursorPage[Any]:
    """[`paginate_queryset_cursor`][backendkit.adapters.django.paginate_queryset_cursor] for
    async views: the same page and cursors, read with Django's async queryset API.

    Raises:
        ValidationFailed: a sort not allowlisted, or a bad cursor (field ``cursor``).
    """
    return await _arun(
        _cursor_flow(queryset, params, codec, sort, sort_fields, default_sort, filters)
    )
