"""Allowlisted sorting, filtering and offset/keyset paging of the users queryset.

A stand-in: backendkit's Django adapter does not offer ``paginate_queryset`` yet (requested
for issue 7). It follows ``backendkit.repository``'s rules exactly, so the Django example
answers like the SQLAlchemy ones: the same sort syntax (``-createdAt,name``, the primary key
as the last tie-breaker), the same filter syntax (``email``, ``role``, ``role[in]``, ``q``),
the same error details, and signed cursors bound to the sort and filters they were made for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet

from backendkit.cursor import CursorCodec, cursor_binding
from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.pagination import CursorPage, CursorParams, Page, PageParams
from backendkit.repository import RESERVED_QUERY_KEYS

__all__ = ["SortKey", "cursor_page", "filter_users", "offset_page", "sort_keys"]

#: Wire name -> model field, for ``sort``.
SORT_FIELDS = {"createdAt": "created_at", "name": "name", "email": "email", "id": "id"}
DEFAULT_SORT = "-createdAt"
#: Wire name -> allowed operators, for the filters.
FILTER_OPS = {"email": {"eq"}, "role": {"eq", "in"}, "q": {"search"}}
MAX_OFFSET = 10_000
_KEY = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]{0,63})(?:\[(?P<op>[a-z]{1,16})\])?$")
_MAX_SORT_FIELDS = 5
_MAX_IN_VALUES = 100
_MAX_SEARCH = 200


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ORDER BY term: wire name, model field, direction."""

    name: str
    field: str
    descending: bool


def _invalid(param: str, messages: Sequence[str], title: str) -> ValidationFailed:
    return ValidationFailed(title, details=[ErrorDetail(param, m) for m in messages])


def sort_keys(text: str | None) -> list[SortKey]:
    """Parse ``"-createdAt,name"``; the primary key is appended as the tie-breaker.

    Raises:
        ValidationFailed: an unknown, repeated or empty field (``sort``).
    """
    source = text or DEFAULT_SORT
    keys: list[SortKey] = []
    problems: list[str] = []
    for part in source.split(","):
        token = part.strip()
        descending = token.startswith("-")
        name = token[1:] if descending or token.startswith("+") else token
        if not name:
            problems.append("contains an empty field")
        elif name not in SORT_FIELDS:
            shown = name if len(name) <= 64 else name[:64] + "..."
            problems.append(f"cannot sort by '{shown}'")
        elif any(key.name == name for key in keys):
            problems.append(f"names '{name}' more than once")
        else:
            keys.append(SortKey(name, SORT_FIELDS[name], descending))
    if len(keys) > _MAX_SORT_FIELDS:
        problems.append(f"accepts at most {_MAX_SORT_FIELDS} fields")
    if problems:
        raise _invalid("sort", problems, "Invalid sort")
    if all(key.field != "id" for key in keys):
        keys.append(SortKey("_pk_id", "id", keys[-1].descending))
    return keys


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
            shown = key if len(key) <= 64 else key[:64] + "..."
            problems.append(ErrorDetail(shown, "is not a filterable field"))
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


def _order(keys: Sequence[SortKey]) -> list[str]:
    return [("-" if key.descending else "") + key.field for key in keys]


def offset_page(queryset: QuerySet[Any], params: PageParams, keys: Sequence[SortKey]) -> Page[Any]:
    """One page by page number, with an exact total.

    Raises:
        ValidationFailed: an offset beyond ``MAX_OFFSET`` (field ``page``).
    """
    offset = params.offset
    if offset > MAX_OFFSET:
        raise _invalid(
            "page", [f"must be at most {MAX_OFFSET // params.per_page + 1}"], "Page out of range"
        )
    rows = list(queryset.order_by(*_order(keys))[offset : offset + params.per_page])
    # A short, non-empty page (or an empty first page) tells the exact total for free.
    if (rows and len(rows) < params.per_page) or (offset == 0 and not rows):
        total = offset + len(rows)
    else:
        total = queryset.count()
    return Page.build(rows, params, total=total)


def _after(keys: Sequence[SortKey], values: Sequence[Any], inclusive: bool) -> Q:
    """Rows strictly after ``values`` in the order of ``keys`` (or at them, if inclusive)."""
    branches = []
    for index, key in enumerate(keys):
        equal = {keys[j].field: values[j] for j in range(index)}
        beyond = {f"{key.field}__{'lt' if key.descending else 'gt'}": values[index]}
        branches.append(Q(**equal, **beyond))
    if inclusive:
        branches.append(Q(**{key.field: value for key, value in zip(keys, values, strict=False)}))
    return reduce(lambda a, b: a | b, branches)


def _encode(value: Any) -> Any:
    return ["dt", value.isoformat()] if isinstance(value, dt.datetime) else value


def _decode(item: Any) -> Any:
    if isinstance(item, list) and len(item) == 2 and item[0] == "dt" and isinstance(item[1], str):
        try:
            return dt.datetime.fromisoformat(item[1])
        except ValueError:
            pass
    elif isinstance(item, (int, str)) and not isinstance(item, bool):
        return item
    raise _invalid("cursor", ["is invalid"], "Invalid cursor")


def cursor_page(
    queryset: QuerySet[Any],
    params: CursorParams,
    keys: Sequence[SortKey],
    conditions: list[list[Any]],
    codec: CursorCodec,
) -> CursorPage[Any]:
    """One page by keyset cursor (``nextCursor``/``prevCursor``), no count.

    Raises:
        ValidationFailed: a cursor that is invalid, tampered with or made for another query.
    """
    canonical = [("-" if key.descending else "") + key.name for key in keys]
    binding = cursor_binding(canonical, conditions, scope="repo:users")
    values: tuple[Any, ...] | None = None
    backward = inclusive = False
    if params.cursor:
        payload = codec.decode(params.cursor, binding=binding)
        if (
            not isinstance(payload, dict)
            or set(payload) != {"k", "b", "i"}
            or not isinstance(payload["k"], list)
            or len(payload["k"]) != len(keys)
            or not isinstance(payload["b"], bool)
            or not isinstance(payload["i"], bool)
        ):
            raise _invalid("cursor", ["is invalid"], "Invalid cursor")
        values = tuple(_decode(item) for item in payload["k"])
        backward, inclusive = payload["b"], payload["i"]
    walk = [SortKey(k.name, k.field, not k.descending) for k in keys] if backward else list(keys)
    rows_qs = queryset.order_by(*_order(walk))
    if values is not None:
        rows_qs = rows_qs.filter(_after(walk, values, inclusive))
    rows = list(rows_qs[: params.per_page + 1])
    more = len(rows) > params.per_page
    rows = rows[: params.per_page]
    if backward:
        rows.reverse()

    def token(row_values: Sequence[Any], back: bool, incl: bool = False) -> str:
        payload = {"k": [_encode(v) for v in row_values], "b": back, "i": incl}
        return codec.encode(payload, binding=binding)

    has_next = True if backward else more
    has_prev = more if backward else values is not None
    next_cursor = prev_cursor = None
    if rows:
        first = [getattr(rows[0], key.field) for key in keys]
        last = [getattr(rows[-1], key.field) for key in keys]
        next_cursor = token(last, False) if has_next else None
        prev_cursor = token(first, True) if has_prev else None
    elif values is not None:
        # Nothing beyond the cursor: offer the way back, starting at the cursor's own row.
        if backward:
            has_prev, next_cursor = False, token(values, False, True)
        else:
            has_next, prev_cursor = False, token(values, True, True)
    return CursorPage(rows, params.per_page, next_cursor, prev_cursor, has_next, has_prev)
