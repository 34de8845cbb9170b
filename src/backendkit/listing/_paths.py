"""Filters and sort keys over attribute paths (``author__name``), for ORMs that name fields
that way.

The Django adapter resolves the client's filters and sort through them; what they mean (the
allowlists, the value types, the primary key breaking ties) is decided here, the ORM only
says it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from backendkit.listing._filters import Condition, allowed_ops
from backendkit.listing._keyset import Comparison, keyset_plan
from backendkit.listing._paging import KeysetWindow
from backendkit.listing._sort import parse_sort

__all__ = [
    "PK_NAME",
    "LookupKeys",
    "PathFilter",
    "PathKey",
    "after_cursor",
    "lookup_filter",
    "path_keys",
]

E = TypeVar("E", bound="Combinable")
F = TypeVar("F", bound="PathFilter")

#: The wire name of the primary-key tie-breaker (never a client's sort field).
PK_NAME = "_pk"


class PathFilter:
    """A path clients may filter by, the operators they may use on it (``eq`` and ``in``
    when none is given) and the type their values are converted to, which may be left for
    the ORM to tell (``str`` until it does).

    Example:
        >>> rule = PathFilter("author__age", "gte").typed(lambda path: int)
        >>> rule, sorted(rule.ops), rule.python_type
        (PathFilter('author__age', ops=['gte']), ['gte'], <class 'int'>)
    """

    __slots__ = ("_python_type", "ops", "path")

    def __init__(self, path: str, *ops: str, python_type: type[Any] | None = None) -> None:
        self.path = path
        self.ops: frozenset[str] = allowed_ops(ops)
        self._python_type = python_type

    @property
    def python_type(self) -> type[Any]:
        """The type client values are converted to (``str`` until known)."""
        return self._python_type or str

    def typed(self: F, type_of: Callable[[str], type[Any]]) -> F:
        """This filter, its value type ``type_of(path)`` when none was given."""
        if self._python_type is not None:
            return self
        return type(self)(self.path, *self.ops, python_type=type_of(self.path))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, ops={sorted(self.ops)})"


@dataclass(frozen=True, slots=True)
class PathKey:
    """One resolved sort key: its wire ``name``, attribute ``path``, direction, nullability."""

    name: str
    path: str
    descending: bool
    nullable: bool

    def reversed(self) -> PathKey:
        """The same key in the opposite direction (for walking backwards)."""
        return PathKey(self.name, self.path, not self.descending, self.nullable)

    def value_of(self, row: Any) -> Any:
        """The key's value on ``row``: the path's attributes in turn (``None`` past a
        missing relation)."""
        for part in self.path.split("__"):
            row = None if row is None else getattr(row, part)
        return row


def path_keys(
    sort: str | None,
    fields: Mapping[str, str] | None,
    *,
    default: str | None,
    nullable: Callable[[str], bool],
    pk: str,
    pk_paths: Collection[str],
) -> list[PathKey]:
    """The client's ``sort`` (or ``default``) over the allowlist ``fields`` (wire name ->
    path), then the primary key ``pk`` unless a key's path is one of ``pk_paths`` already.

    The tie-breaker follows the last key's direction, so a one-direction sort stays one
    (and an index serves it). ``nullable(path)`` tells whether a path can be NULL.

    Raises:
        ValidationFailed: a sort that is not allowlisted (field ``sort``).

    Example:
        >>> keys = path_keys("-created", {"created": "created_at"}, default=None,
        ...                  nullable=lambda path: False, pk="id", pk_paths={"id", "pk"})
        >>> [(key.name, key.path, key.descending) for key in keys]
        [('created', 'created_at', True), ('_pk', 'id', True)]
    """
    allowed = dict(fields or {})
    keys = [
        PathKey(name, allowed[name], descending, nullable(allowed[name]))
        for name, descending in parse_sort(sort, allowed, default=default)
    ]
    if not any(key.path in pk_paths for key in keys):
        keys.append(PathKey(PK_NAME, pk, keys[-1].descending if keys else False, False))
    return keys


# Operators whose lookup has another name (``icontains``: the ORM escapes % and _ in it).
_LOOKUPS = {"null": "isnull", "search": "icontains"}


class Combinable(Protocol):
    """A condition that combines with ``&`` and negates with ``~`` (Django's ``Q``)."""

    def __and__(self: E, other: E) -> E: ...

    def __invert__(self: E) -> E: ...


class LookupKeys(Generic[E]):
    """The keyset ``KeyAlgebra`` of an ORM that
    names comparisons as lookups: ``condition(created__gt=value)`` (Django's ``Q``).

    Example:
        >>> keys = LookupKeys(["created"], dict)
        >>> keys.compare(0, "gt", 5), keys.is_null(0, True)
        ({'created__gt': 5}, {'created__isnull': True})
    """

    def __init__(self, paths: Sequence[str], condition: Callable[..., E]) -> None:
        self.paths, self.condition = list(paths), condition

    def compare(self, i: int, op: Comparison, value: Any) -> E:
        """Key ``i`` compared with ``value``."""
        return self.condition(**{f"{self.paths[i]}__{op}": value})

    def is_null(self, i: int, null: bool) -> E:
        """Key ``i`` IS (NOT) NULL."""
        return self.condition(**{f"{self.paths[i]}__isnull": null})

    def both(self, left: E, right: E) -> E:
        """``left AND right``."""
        return left & right

    def negate(self, part: E) -> E:
        """``NOT part``."""
        return ~part


def lookup_filter(condition: Condition, path: str, make: Callable[..., E]) -> E:
    """A parsed filter ``condition`` on ``path`` as a lookup condition: ``make(**{lookup:
    value})`` (Django's ``Q``). ``eq`` null is ``isnull``; ``ne`` is the negated equality,
    which keeps NULL rows as the repository's does.

    Example:
        >>> lookup_filter(Condition("age", "gte", 18), "author__age", dict)
        {'author__age__gte': 18}
    """
    op, value = condition.op, condition.value
    if op == "eq":
        return make(**({f"{path}__isnull": True} if value is None else {path: value}))
    if op == "ne":
        return ~make(**{path: value})
    return make(**{f"{path}__{_LOOKUPS.get(op, op)}": list(value) if op == "in" else value})


def after_cursor(window: KeysetWindow, walk: Sequence[PathKey], make: Callable[..., E]) -> list[E]:
    """The lookup conditions whose union is the rows after ``window``'s cursor, ``walk``
    being its keys in reading order (``keyset_plan``; none on a first page)."""
    if window.values is None:
        return []
    algebra = LookupKeys([key.path for key in walk], make)
    return keyset_plan(algebra, walk, window.values, inclusive=window.inclusive)
