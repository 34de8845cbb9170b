"""Django ORM querysets into the same filters and pages as the SQLAlchemy repository.

``filter_queryset`` applies the client's allowlisted filters (same query syntax, operators
and error details as the repository). ``paginate_queryset`` (page numbers) and
``paginate_queryset_cursor`` (keyset) take the filtered queryset, an allowlist of sortable
fields, and the client's ``sort``; they return [`Page`][backendkit.pagination.Page] and
[`CursorPage`][backendkit.pagination.CursorPage], so Django views render the same envelopes.
The rules match the repository: allowlisted sorting with the primary key as the last
tie-breaker, NULLs greater than every value on every database, signed cursors bound to the
sort (and to a description of the filters), keyset conditions in the index-friendly
expanded form (never an OR chain), and cursor paging that never counts.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from backendkit._extras import require

require("django", "django")

from django.core.exceptions import FieldDoesNotExist  # type: ignore[import-untyped]
from django.db import connections  # type: ignore[import-untyped]
from django.db.models import F, Q, QuerySet  # type: ignore[import-untyped]

from backendkit._filtering import OPERATORS, Condition, parse_filters
from backendkit._listing import CursorState, KeyAlgebra, keyset_plan, parse_sort
from backendkit.cursor import CursorCodec, cursor_binding
from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.pagination import CursorPage, CursorParams, Page, PageParams

__all__ = ["QueryFilter", "filter_queryset", "paginate_queryset", "paginate_queryset_cursor"]

#: How ``paginate_queryset`` computes ``total`` (as in the repository).
Counting: TypeAlias = Literal["exact", "none", "estimated"]

_DEFAULT_MAX_OFFSET = 10_000
_DEFAULT_ESTIMATE_THRESHOLD = 10_000


class _Key:
    __slots__ = ("descending", "name", "nullable", "path")

    def __init__(self, name: str, path: str, descending: bool, nullable: bool) -> None:
        self.name, self.path, self.descending, self.nullable = name, path, descending, nullable

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


def _nullable(model: type[Any], path: str) -> bool:
    current: Any = model
    field: Any = None
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return True
        current = getattr(field, "related_model", None)
        if getattr(field, "null", False):
            return True
    return field is None or (bool(getattr(field, "null", True)) and not field.primary_key)


def _keys(
    queryset: QuerySet,
    sort: str | None,
    sort_fields: Mapping[str, str] | None,
    default_sort: str | None,
) -> list[_Key]:
    fields = dict(sort_fields or {})
    model = queryset.model
    keys = [
        _Key(name, fields[name], descending, _nullable(model, fields[name]))
        for name, descending in parse_sort(sort, fields, default=default_sort)
    ]
    pk = model._meta.pk
    assert pk is not None
    if not any(key.path in (pk.name, pk.attname, "pk") for key in keys):
        tail = keys[-1].descending if keys else False
        keys.append(_Key("_pk", pk.attname, tail, False))
    return keys


_PYTHON_TYPES: tuple[tuple[str, type[Any]], ...] = (
    ("BooleanField", bool),
    ("DecimalField", Decimal),
    ("FloatField", float),
    ("DateTimeField", dt.datetime),
    ("DateField", dt.date),
    ("TimeField", dt.time),
    ("UUIDField", uuid.UUID),
    ("IntegerField", int),  # also Big/Small/PositiveIntegerField and AutoField by MRO name
    ("AutoField", int),
    ("ForeignKey", int),
)


class QueryFilter:
    """A field clients may filter a queryset by, and the operators they may use on it.

    Args:
        path: The model field (or ``relation__field`` path) compared.
        *ops: Allowed operators: ``eq``, ``ne``, ``in``, ``gt``, ``gte``, ``lt``, ``lte``,
            ``null``, ``search`` (case-insensitive substring, wildcards escaped by Django).
            Defaults to ``eq`` and ``in``.
        python_type: Type client values are converted to; by default taken from the model
            field when the queryset is filtered (``str`` when it cannot tell).

    Example:
        >>> sorted(QueryFilter("email", "eq", "search").ops)
        ['eq', 'search']
    """

    __slots__ = ("_python_type", "ops", "path")

    def __init__(self, path: str, *ops: str, python_type: type[Any] | None = None) -> None:
        chosen = frozenset(ops or ("eq", "in"))
        unknown = chosen - OPERATORS
        if unknown:
            raise ValueError(f"unknown filter operators: {sorted(unknown)}")
        self.path = path
        self.ops: frozenset[str] = chosen
        self._python_type = python_type

    @property
    def python_type(self) -> type[Any]:
        """The type client values are converted to (``str`` until bound to a model)."""
        return self._python_type or str

    def bound(self, model: type[Any]) -> QueryFilter:
        """This filter with its value type read from ``model`` when none was given."""
        if self._python_type is not None:
            return self
        return QueryFilter(self.path, *self.ops, python_type=_python_type(model, self.path))

    def __repr__(self) -> str:
        return f"QueryFilter({self.path!r}, ops={sorted(self.ops)})"


def _python_type(model: type[Any], path: str) -> type[Any]:
    current: Any = model
    field: Any = None
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except (FieldDoesNotExist, AttributeError):
            return str
        current = getattr(field, "related_model", None) or current
    names = {cls.__name__ for cls in type(field).__mro__}
    return next((kind for name, kind in _PYTHON_TYPES if name in names), str)


def _condition_q(condition: Condition, path: str) -> Q:
    op, value = condition.op, condition.value
    if op == "eq":
        return Q(**{f"{path}__isnull": True}) if value is None else Q(**{path: value})
    if op == "ne":  # Django's negation keeps NULL rows, like the repository's `ne`
        return ~Q(**{path: value})
    if op == "in":
        return Q(**{f"{path}__in": list(value)})
    if op == "null":
        return Q(**{f"{path}__isnull": bool(value)})
    if op == "search":  # Django escapes % and _ in contains lookups
        return Q(**{f"{path}__icontains": value})
    return Q(**{f"{path}__{op}": value})


def filter_queryset(
    queryset: QuerySet,
    query: Mapping[str, Any] | None,
    filter_fields: Mapping[str, QueryFilter],
) -> tuple[QuerySet, list[Any]]:
    """Apply the client's allowlisted filters; return the queryset and the filters applied.

    The second value describes the filters in a canonical form: pass it as ``filters=`` to
    [`paginate_queryset_cursor`][backendkit.adapters.django.paginate_queryset_cursor] so
    cursors are bound to them. Paging keys (``page``, ``perPage``, ``sort``, ``cursor``) in
    ``query`` are skipped.

    Raises:
        ValidationFailed: an unknown field, an operator the field does not allow or a value
            of the wrong type, each named in the details (as the repository reports them).

    Example:
        ```python
        FILTERS = {"email": QueryFilter("email", "eq", "search"), "role": QueryFilter("role")}
        users, applied = filter_queryset(User.objects.all(), request.GET.dict(), FILTERS)
        ```
    """
    if not query:
        return queryset, []
    model = queryset.model
    rules = {name: rule.bound(model) for name, rule in filter_fields.items()}
    conditions = parse_filters(query, rules)
    for condition in conditions:
        queryset = queryset.filter(_condition_q(condition, rules[condition.field].path))
    return queryset, [condition.canonical() for condition in conditions]


def paginate_queryset(
    queryset: QuerySet,
    params: PageParams,
    *,
    sort: str | None = None,
    sort_fields: Mapping[str, str] | None = None,
    default_sort: str | None = None,
    count: Counting = "exact",
    max_offset: int | None = _DEFAULT_MAX_OFFSET,
    estimate_threshold: int = _DEFAULT_ESTIMATE_THRESHOLD,
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
            PageParams.model_validate(request.GET.dict()),
            sort=request.GET.get("sort"),
            sort_fields={"createdAt": "created", "title": "title"},
        )
        return page_response(page)
        ```
    """
    per_page = params.per_page
    offset = (params.page - 1) * per_page
    if max_offset is not None and offset > max_offset:
        raise ValidationFailed(
            "Page out of range",
            details=[ErrorDetail("page", f"must be at most {max_offset // per_page + 1}")],
        )
    keys = _keys(queryset, sort, sort_fields, default_sort)
    ordered = queryset.order_by(*(key.order() for key in keys))
    fetch = per_page if count == "exact" else per_page + 1
    rows = list(ordered[offset : offset + fetch])
    items = rows[:per_page]
    tells_total = (items and len(rows) < per_page) or (offset == 0 and not rows)
    known = offset + len(items) if tells_total else None
    if count == "none":
        return Page(items, params.page, per_page, None, len(rows) > per_page)
    if count == "exact":
        total = known if known is not None else queryset.order_by().count()
        return Page(items, params.page, per_page, total, offset + len(items) < total)
    if count != "estimated":
        raise ValueError(f"unknown count strategy {count!r}")
    has_next = len(rows) > per_page
    total = known
    if total is None:
        total = _estimate(queryset, estimate_threshold)
        if items:  # an estimate may be stale: never contradict what this page shows
            total = max(total, offset + len(items) + (1 if has_next else 0))
    return Page(items, params.page, per_page, total, has_next)


def _estimate(queryset: QuerySet, threshold: int) -> int:
    if connections[queryset.db].vendor == "postgresql":
        plan = json.loads(queryset.order_by().explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= threshold:
            return estimate
    return int(queryset.order_by().count())


class _DjangoKeys:
    """``KeyAlgebra`` over Django ``Q`` objects."""

    def __init__(self, keys: Sequence[_Key]) -> None:
        self.keys = keys

    def equal(self, i: int, value: Any) -> Q:
        path = self.keys[i].path
        return Q(**{f"{path}__isnull": True}) if value is None else Q(**{path: value})

    def after(self, i: int, value: Any) -> Q:
        key = self.keys[i]
        return Q(**{f"{key.path}__{'lt' if key.descending else 'gt'}": value})

    def at_or_after(self, i: int, value: Any) -> Q:
        key = self.keys[i]
        return Q(**{f"{key.path}__{'lte' if key.descending else 'gte'}": value})

    def is_null(self, i: int) -> Q:
        return Q(**{f"{self.keys[i].path}__isnull": True})

    def is_not_null(self, i: int) -> Q:
        return Q(**{f"{self.keys[i].path}__isnull": False})

    def both(self, left: Q, right: Q) -> Q:
        return left & right

    def negate(self, part: Q) -> Q:
        return ~part


def _algebra(keys: Sequence[_Key]) -> KeyAlgebra[Q]:
    return _DjangoKeys(keys)


def _key_values(obj: Any, keys: Sequence[_Key]) -> tuple[Any, ...]:
    values = []
    for key in keys:
        value: Any = obj
        for part in key.path.split("__"):
            value = None if value is None else getattr(value, part)
        values.append(value)
    return tuple(values)


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
    sort_text = [("-" if key.descending else "") + key.name for key in keys]
    binding = cursor_binding(sort_text, filters, scope=f"django:{queryset.model._meta.db_table}")
    state: CursorState | None = None
    if params.cursor:
        state = CursorState.from_payload(codec.decode(params.cursor, binding=binding), len(keys))
    backward = state is not None and state.backward
    walk = [key.reversed() for key in keys] if backward else keys
    per_page = params.per_page
    ordering = [key.order() for key in walk]
    if state is None:
        rows = list(queryset.order_by(*ordering)[: per_page + 1])
    else:
        pieces = keyset_plan(
            _algebra(walk),
            [key.descending for key in walk],
            [key.nullable for key in walk],
            state.values,
            inclusive=state.inclusive,
        )
        if len(pieces) == 1:
            rows = list(queryset.filter(pieces[0]).order_by(*ordering)[: per_page + 1])
        else:
            # NULLs after the cursor make several index ranges: read each range's first
            # primary keys, then let the database order the union (its own collation).
            ids: list[Any] = []
            for piece in pieces:
                piece_rows = queryset.filter(piece).order_by(*ordering)[: per_page + 1]
                ids.extend(piece_rows.values_list("pk", flat=True))
            rows = list(queryset.filter(pk__in=ids).order_by(*ordering)[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backward:
        rows.reverse()
    values = [_key_values(obj, keys) for obj in rows]

    def token(row_values: Sequence[Any], back: bool, inclusive: bool = False) -> str:
        payload = CursorState(tuple(row_values), back, inclusive).to_payload()
        return codec.encode(payload, binding=binding)

    has_next = True if backward else more
    has_prev = more if backward else state is not None
    next_cursor = prev_cursor = None
    if values:
        next_cursor = token(values[-1], False) if has_next else None
        prev_cursor = token(values[0], True) if has_prev else None
    elif state is not None:
        if backward:
            has_prev = False
            next_cursor = token(state.values, False, True)
        else:
            has_next = False
            prev_cursor = token(state.values, True, True)
    return CursorPage(rows, per_page, next_cursor, prev_cursor, has_next, has_prev)
