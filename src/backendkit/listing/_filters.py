"""Allowlisted filters parsed from a query mapping, for any query language.

A listing names the fields clients may filter by and, for each, the operators allowed (a
[`FilterRule`][]). Client input is parsed into ``Condition`` values typed through pydantic;
the SQLAlchemy repository and the Django adapter then turn them into bound-parameter
conditions, so a user string never becomes SQL text. No database library is imported here.

Query syntax (one key per condition, values as strings as they come from a query string)::

    status=active            equality
    role[in]=admin,staff     membership (comma separated, or the key repeated)
    age[gte]=18&age[lt]=65   ranges: gt, gte, lt, lte
    deletedAt[null]=true     null checks
    name[search]=ann         case-insensitive substring; % and _ in the input are literal

A value holding a NUL character (``%00``) is refused for every operator, before any type
conversion: PostgreSQL text cannot contain one, so it could only ever fail in the database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from backendkit.errors import ErrorDetail, ValidationFailed

__all__ = [
    "OPERATORS",
    "RESERVED_QUERY_KEYS",
    "Condition",
    "FilterRule",
    "allowed_ops",
    "parse_filters",
]

#: Every operator a filter field may allow.
OPERATORS: frozenset[str] = frozenset(
    {"eq", "ne", "in", "gt", "gte", "lt", "lte", "null", "search"}
)

#: Query keys that belong to paging and sorting, skipped by the filter parser.
RESERVED_QUERY_KEYS: frozenset[str] = frozenset(
    {"page", "perPage", "per_page", "sort", "cursor", "orderBy", "order_by"}
)

_KEY = re.compile(r"^(?P<field>[A-Za-z_][A-Za-z0-9_.]{0,63})(?:\[(?P<op>[a-z]{1,16})\])?$")
_MAX_IN_VALUES = 100
_MAX_SEARCH_LENGTH = 200
# An unknown key is named back only when it has the shape of a field name (an identifier,
# optionally with a bracketed operator); anything else is the client's own text, which an
# error never repeats (it could hold markup, a NUL, or a secret pasted in the wrong place).
_SHOWABLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}(?:\[[A-Za-z0-9_]{1,16}\])?")
_UNNAMED_KEY = "A query parameter is not a filterable field"


@dataclass(frozen=True, slots=True)
class Condition:
    """One parsed, typed filter condition: ``field``, operator ``op`` and ``value``."""

    field: str
    op: str
    value: Any

    def canonical(self) -> list[Any]:
        """Return a JSON-ready form used to bind cursors to the filters they were made for."""
        return [self.field, self.op, _jsonable(self.value)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(python_type: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(python_type)
    if adapter is None:
        adapter = _ADAPTERS[python_type] = TypeAdapter(python_type)
    return adapter


def _unknown_key(key: str) -> ErrorDetail:
    if _SHOWABLE_KEY.fullmatch(key):
        return ErrorDetail(key, "is not a filterable field")
    return ErrorDetail(None, _UNNAMED_KEY)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(map(_has_nul, value))
    return False


def _one(values: Sequence[Any]) -> Any:
    if len(values) != 1:
        raise _ProblemError("expects a single value")
    return values[0]


class _ProblemError(Exception):
    """A message about one field, collected into a ValidationFailed."""


def allowed_ops(ops: Iterable[str]) -> frozenset[str]:
    """The operators a filter field allows: ``ops``, or ``eq`` and ``in`` when none is given.

    Raises:
        ValueError: an operator that is not in ``OPERATORS`` (a mistake in the allowlist).
    """
    chosen = frozenset(ops) or frozenset(("eq", "in"))
    unknown = chosen - OPERATORS
    if unknown:
        raise ValueError(f"unknown filter operators: {sorted(unknown)}")
    return chosen


class FilterRule(Protocol):
    """What the parser needs to know about a filterable field."""

    @property
    def ops(self) -> frozenset[str]:
        """Allowed operators."""

    @property
    def python_type(self) -> type[Any]:
        """Type client values are converted to."""


def _coerce(field: FilterRule, raw: Any) -> Any:
    try:
        return _adapter(field.python_type).validate_python(raw)
    except PydanticValidationError:
        name = getattr(field.python_type, "__name__", "value")
        raise _ProblemError(f"must be a valid {_type_word(name)}") from None


_TYPE_WORDS = {
    "int": "integer",
    "float": "number",
    "Decimal": "number",
    "bool": "boolean",
    "str": "string",
    "datetime": "date-time",
    "date": "date",
    "time": "time",
    "UUID": "UUID",
}


def _type_word(name: str) -> str:
    return _TYPE_WORDS.get(name, "value")


def _parse_value(field: FilterRule, op: str, values: Sequence[Any]) -> Any:
    if op == "in":
        items: list[Any] = []
        for value in values:
            if isinstance(value, str):
                items.extend(part for part in value.split(",") if part != "")
            elif isinstance(value, (list, tuple, set, frozenset)):
                items.extend(value)
            else:
                items.append(value)
        if not items:
            raise _ProblemError("expects at least one value")
        if len(items) > _MAX_IN_VALUES:
            raise _ProblemError(f"accepts at most {_MAX_IN_VALUES} values")
        return tuple(_coerce(field, item) for item in items)
    raw = _one(values)
    if op == "null":
        try:
            return _adapter(bool).validate_python(raw)
        except PydanticValidationError:
            raise _ProblemError("must be true or false") from None
    if op == "search":
        if not isinstance(raw, str) or not raw:
            raise _ProblemError("must be a non-empty string")
        if len(raw) > _MAX_SEARCH_LENGTH:
            raise _ProblemError(f"must be at most {_MAX_SEARCH_LENGTH} characters")
        return raw
    return _coerce(field, raw)


def parse_filters(
    query: Mapping[str, Any],
    fields: Mapping[str, FilterRule],
    *,
    ignore: Iterable[str] = RESERVED_QUERY_KEYS,
) -> tuple[Condition, ...]:
    """Parse a query mapping into typed conditions, in a canonical order.

    Values may be strings, lists of strings (a repeated key) or Python values.

    Raises:
        ValidationFailed: for an unknown field, an operator the field does not allow, a
            value of the wrong type or one holding a NUL character; every problem is
            listed, each naming its field.
    """
    skipped = frozenset(ignore)
    problems: list[ErrorDetail] = []
    conditions: list[Condition] = []
    for key, raw in query.items():
        if key in skipped:
            continue
        match = _KEY.match(key)
        field = fields.get(match.group("field")) if match else None
        if match is None or field is None:
            detail = _unknown_key(key)
            if detail not in problems:  # several unnamed keys: one detail
                problems.append(detail)
            continue
        name = match.group("field")
        op = match.group("op") or "eq"
        if op not in field.ops:
            problems.append(ErrorDetail(name, f"does not support the '{op}' operator"))
            continue
        values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
        if _has_nul(values):
            problems.append(ErrorDetail(name, "must not contain NUL characters"))
            continue
        try:
            conditions.append(Condition(name, op, _parse_value(field, op, values)))
        except _ProblemError as problem:
            problems.append(ErrorDetail(name, str(problem)))
    if problems:
        raise ValidationFailed("Invalid filter", details=problems)
    return tuple(sorted(conditions, key=lambda c: json.dumps(c.canonical(), sort_keys=True)))
