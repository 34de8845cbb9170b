"""The allowlisted sort fields and filters of the users list.

Sorting and paging (offset and keyset) are backendkit's ``paginate_queryset`` and
``paginate_queryset_cursor``; the filters follow ``backendkit.repository``'s syntax and
error details, so the Django example answers like the SQLAlchemy ones: ``email=``,
``role=``, ``role[in]=a,b`` and ``q=`` (name or email contains), anything else a
``400 VALIDATION_ERROR`` naming the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.repository import RESERVED_QUERY_KEYS

__all__ = ["DEFAULT_SORT", "SORT_FIELDS", "filter_users"]

#: Wire name -> model field, for ``sort``.
SORT_FIELDS = {"createdAt": "created_at", "name": "name", "email": "email", "id": "id"}
#: Newest first when the client names no sort.
DEFAULT_SORT = "-createdAt"
#: Wire name -> allowed operators.
FILTER_OPS = {"email": {"eq"}, "role": {"eq", "in"}, "q": {"search"}}
_KEY = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]{0,63})(?:\[(?P<op>[a-z]{1,16})\])?$")
_MAX_IN_VALUES = 100
_MAX_SEARCH = 200


def filter_users(
    queryset: QuerySet[Any], query: Mapping[str, list[str]]
) -> tuple[QuerySet[Any], list[list[Any]]]:
    """Apply the allowlisted filters of ``query``; returns the queryset and their canonical form.

    Raises:
        ValidationFailed: an unknown field, a forbidden operator or a bad value.
    """
    problems: list[ErrorDetail] = []
    conditions: list[list[Any]] = []
    for key, values in query.items():
        if key in RESERVED_QUERY_KEYS:
            continue
        match = _KEY.match(key)
        name = match.group("field") if match else None
        if match is None or name not in FILTER_OPS:
            # Named back only when shaped like a field name (as the repository does):
            # markup, NUL or a pasted secret is never repeated to the client.
            if match is not None:
                problems.append(ErrorDetail(key, "is not a filterable field"))
            else:
                problems.append(ErrorDetail(None, "A query parameter is not a filterable field"))
            continue
        op = match.group("op") or ("search" if name == "q" else "eq")
        if op not in FILTER_OPS[name]:
            problems.append(ErrorDetail(name, f"does not support the '{op}' operator"))
            continue
        try:
            conditions.append([name, op, _value(op, values)])
        except ValueError as problem:
            problems.append(ErrorDetail(name, str(problem)))
    if problems:
        raise ValidationFailed("Invalid filter", details=problems)
    conditions.sort(key=lambda c: json.dumps(c, sort_keys=True))
    for name, op, value in conditions:
        if name == "q":
            queryset = queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))
        elif op == "in":
            queryset = queryset.filter(**{f"{name}__in": value})
        else:
            queryset = queryset.filter(**{name: value})
    return queryset, conditions


def _value(op: str, values: Sequence[str]) -> Any:
    if any("\x00" in value for value in values):  # PostgreSQL text cannot hold one
        raise ValueError("must not contain NUL characters")
    if op == "in":
        items = [part for value in values for part in value.split(",") if part != ""]
        if not items:
            raise ValueError("expects at least one value")
        if len(items) > _MAX_IN_VALUES:
            raise ValueError(f"accepts at most {_MAX_IN_VALUES} values")
        return items
    if len(values) != 1:
        raise ValueError("expects a single value")
    if op == "search":
        if not values[0]:
            raise ValueError("must be a non-empty string")
        if len(values[0]) > _MAX_SEARCH:
            raise ValueError(f"must be at most {_MAX_SEARCH} characters")
    return values[0]
