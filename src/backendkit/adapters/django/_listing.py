"""Django querysets filtered, sorted and paged as the repository does it: what that means
is ``backendkit.listing``'s; this module says it with ``Q``, ``F`` and the model's fields."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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

__all__ = ["QueryFilter", "filter_queryset", "paginate_queryset", "paginate_queryset_cursor"]

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
    window = OffsetWindow.open(params, count, max_offset)
    ordering = map(_order, _keys(queryset, sort, sort_fields, default_sort))
    rows = list(queryset.order_by(*ordering)[window.offset : window.offset + window.fetch])
    total = _count(queryset, count, estimate_threshold) if window.needs_total(rows) else None
    return window.page(rows, total)


def _count(queryset: QuerySet, count: Counting, threshold: int) -> int:
    if count == "estimated" and connections[queryset.db].vendor == "postgresql":
        plan = json.loads(queryset.order_by().explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= threshold:
            return estimate
    return int(queryset.order_by().count())


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
    keys = _keys(queryset, sort, sort_fields, default_sort)
    scope = f"django:{queryset.model._meta.db_table}"
    window = KeysetWindow.open(params, codec, keys, filters=filters, scope=scope)
    walk = window.walk(keys)
    ordered = queryset.order_by(*map(_order, walk))
    pieces = after_cursor(window, walk, Q)
    if len(pieces) > 1:
        # NULLs after the cursor make several index ranges: read each range's first
        # primary keys, then let the database order the union (its own collation).
        heads = [
            ordered.filter(piece)[: window.fetch].values_list("pk", flat=True) for piece in pieces
        ]
        pieces = [Q(pk__in=[pk for head in heads for pk in head])]
    rows = list(ordered.filter(*pieces)[: window.fetch])
    return window.page(rows, lambda row: tuple(key.value_of(row) for key in keys))
