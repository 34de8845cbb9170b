"""Django querysets paged as the SQLAlchemy repository pages: by number or by keyset cursor.

``paginate_queryset`` and ``paginate_queryset_cursor`` order a (filtered) queryset by an
allowlisted sort and return a [`Page`][backendkit.listing.Page] or a
[`CursorPage`][backendkit.listing.CursorPage]. What sorts, counts, cursors and pages mean is
decided once in ``backendkit.listing`` and shared with the repository; this module says it
in the ORM: ``F`` orderings (NULL greatest on every database), ``Q`` keyset conditions and
the model's fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.db import connections  # type: ignore[import-untyped]
from django.db.models import F, Q, QuerySet  # type: ignore[import-untyped]

from backendkit.adapters.django._filters import path_fields
from backendkit.listing import CursorCodec, CursorPage, CursorParams, Page, PageParams
from backendkit.listing._keyset import Comparison, keyset_plan
from backendkit.listing._paging import (
    DEFAULT_ESTIMATE_THRESHOLD,
    DEFAULT_MAX_OFFSET,
    Counting,
    KeysetWindow,
    OffsetWindow,
)
from backendkit.listing._sort import parse_sort

__all__ = ["paginate_queryset", "paginate_queryset_cursor"]


def _nullable(model: type[Any], path: str) -> bool:
    fields = path_fields(model, path)
    if not fields:
        return True
    last = fields[-1]
    if any(getattr(field, "null", False) for field in fields):
        return True
    return bool(getattr(last, "null", True)) and not last.primary_key


@dataclass(frozen=True, slots=True)
class _Key:
    name: str
    path: str
    descending: bool
    nullable: bool

    def reversed(self) -> _Key:
        return _Key(self.name, self.path, not self.descending, self.nullable)

    def order(self) -> Any:
        expression = F(self.path)
        if not self.nullable:
            return expression.desc() if self.descending else expression.asc()
        # NULL is greatest everywhere; Django emulates NULLS FIRST/LAST where SQL lacks it.
        if self.descending:
            return expression.desc(nulls_first=True)
        return expression.asc(nulls_last=True)

    def value_of(self, obj: Any) -> Any:
        for part in self.path.split("__"):
            obj = None if obj is None else getattr(obj, part)
        return obj


def _keys(
    queryset: QuerySet, sort: str | None, sort_fields: Mapping[str, str] | None, default: str | None
) -> list[_Key]:
    fields = dict(sort_fields or {})
    model = queryset.model
    keys = [
        _Key(name, fields[name], descending, _nullable(model, fields[name]))
        for name, descending in parse_sort(sort, fields, default=default)
    ]
    pk = model._meta.pk
    assert pk is not None
    if not any(key.path in (pk.name, pk.attname, "pk") for key in keys):
        keys.append(_Key("_pk", pk.attname, keys[-1].descending if keys else False, False))
    return keys


class _QKeys:
    """``KeyAlgebra`` over Django ``Q`` objects."""

    def __init__(self, keys: Sequence[_Key]) -> None:
        self.paths = [key.path for key in keys]

    def compare(self, i: int, op: Comparison, value: Any) -> Q:
        return Q(**{f"{self.paths[i]}__{op}": value})

    def is_null(self, i: int, null: bool) -> Q:
        return Q(**{f"{self.paths[i]}__isnull": null})

    def both(self, left: Q, right: Q) -> Q:
        return left & right

    def negate(self, part: Q) -> Q:
        return ~part


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
    """One page of ``queryset`` by page number, with ``total`` per the count strategy.

    Args:
        queryset: The filtered queryset (its own ordering is replaced).
        params: Page number and size.
        sort: The client's sort, e.g. ``"-createdAt,title"``; ``None`` uses ``default_sort``.
        sort_fields: Wire name -> model field path (``{"createdAt": "created"}``). Nothing
            else can be sorted on; the primary key always breaks ties.
        default_sort: Sort used when the client gives none.
        count: ``exact`` (default; skipped when the page itself tells the total), ``none``
            (``hasNext`` from one extra row) or ``estimated`` (PostgreSQL planner estimate,
            exact below ``estimate_threshold``).
        max_offset: Largest row offset accepted (``None``: no limit).
        estimate_threshold: Below this estimate, ``estimated`` counts exactly.

    Raises:
        ValidationFailed: a sort that is not allowlisted (``sort``) or a page beyond
            ``max_offset`` (``page``).

    Example:
        ```python
        page = paginate_queryset(
            Article.objects.filter(published=True),
            page_params(request.GET),
            sort=request.GET.get("sort"),
            sort_fields={"createdAt": "created", "title": "title"},
        )
        return page_response(page)
        ```
    """
    window = OffsetWindow.open(params, count, max_offset)
    ordering = [key.order() for key in _keys(queryset, sort, sort_fields, default_sort)]
    rows = list(queryset.order_by(*ordering)[window.offset : window.offset + window.fetch])
    total = None
    if window.needs_total(rows):
        exact = count == "exact"
        total = queryset.order_by().count() if exact else _estimate(queryset, estimate_threshold)
    return window.page(rows, total)


def _estimate(queryset: QuerySet, threshold: int) -> int:
    if connections[queryset.db].vendor == "postgresql":
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
    """One keyset page of ``queryset``: as fast at any depth as on the first page; no count.

    Args:
        queryset: The filtered queryset (its own ordering is replaced).
        params: The cursor (absent for the first page) and page size.
        codec: Signs and verifies cursors.
        sort: The client's sort; ``None`` uses ``default_sort``.
        sort_fields: Wire name -> local field name. The primary key breaks ties.
        default_sort: Sort used when the client gives none.
        filters: A JSON-able description of the filters applied to ``queryset`` (e.g. the
            filter query parameters): cursors are bound to it and to the sort, so one made
            for another listing is refused.

    Raises:
        ValidationFailed: a sort that is not allowlisted, or a cursor that is invalid,
            tampered with or made for another listing (field ``cursor``).
    """
    keys = _keys(queryset, sort, sort_fields, default_sort)
    scope = f"django:{queryset.model._meta.db_table}"
    window = KeysetWindow.open(params, codec, keys, filters=filters, scope=scope)
    walk = window.walk(keys)
    ordering = [key.order() for key in walk]
    if window.values is None:
        rows = list(queryset.order_by(*ordering)[: window.fetch])
    else:
        pieces = keyset_plan(_QKeys(walk), walk, window.values, inclusive=window.inclusive)
        if len(pieces) == 1:
            rows = list(queryset.filter(pieces[0]).order_by(*ordering)[: window.fetch])
        else:
            # NULLs after the cursor make several index ranges: read each range's first
            # primary keys, then let the database order the union (its own collation).
            ids: list[Any] = []
            for piece in pieces:
                piece_rows = queryset.filter(piece).order_by(*ordering)[: window.fetch]
                ids.extend(piece_rows.values_list("pk", flat=True))
            rows = list(queryset.filter(pk__in=ids).order_by(*ordering)[: window.fetch])
    return window.page(rows, lambda obj: tuple(key.value_of(obj) for key in keys))
