"""Django querysets filtered by the client's allowlisted filters, as the repository filters.

The query syntax, the operators, the typed values and the errors are
``backendkit.listing``'s, shared with the repository; this module turns each parsed
condition into a ``Q`` and reads a filter's value type from the model field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.core.exceptions import FieldDoesNotExist  # type: ignore[import-untyped]
from django.db.models import Q, QuerySet  # type: ignore[import-untyped]

from backendkit.listing._filters import Condition, allowed_ops, parse_filters

__all__ = ["QueryFilter", "filter_queryset", "path_fields"]

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


def path_fields(model: type[Any], path: str) -> list[Any] | None:
    """The model fields along ``path`` (``author__name``); None when a step is not a field."""
    fields: list[Any] = []
    current: Any = model
    for part in path.split("__"):
        try:
            fields.append(current._meta.get_field(part))
        except (FieldDoesNotExist, AttributeError):
            return None
        current = getattr(fields[-1], "related_model", None)
    return fields


def _python_type(model: type[Any], path: str) -> type[Any]:
    fields = path_fields(model, path)
    names = {cls.__name__ for cls in type(fields[-1]).__mro__} if fields else set()
    return next((kind for name, kind in _PYTHON_TYPES if name in names), str)


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
        self.path = path
        self.ops: frozenset[str] = allowed_ops(ops)
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
    rules = {name: rule.bound(queryset.model) for name, rule in filter_fields.items()}
    conditions = parse_filters(query, rules)
    for condition in conditions:
        queryset = queryset.filter(_condition_q(condition, rules[condition.field].path))
    return queryset, [condition.canonical() for condition in conditions]
