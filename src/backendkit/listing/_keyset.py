"""Keyset ("after this row") conditions, written once for any query language.

A query language (SQLAlchemy, the Django ORM) says four things through a [`KeyAlgebra`][]:
compare a sort key with a value, test it for NULL, "and", "not". [`keyset_plan`][] builds
the conditions from those, knowing each key's direction and nullability. No database
library is imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar

__all__ = ["Comparison", "KeyAlgebra", "OrderedKey", "keyset_plan"]

E = TypeVar("E")

#: A comparison of a key with a value, named as Django names its lookups.
Comparison: TypeAlias = Literal["exact", "lt", "gt", "lte", "gte"]


class KeyAlgebra(Protocol[E]):
    """How one query language says the few things keyset conditions need.

    Index ``i`` is the position of a sort key (primary key last).
    """

    def compare(self, i: int, op: Comparison, value: Any) -> E:
        """Key ``i`` compared with ``value`` (never true for NULL; ``value`` is never None)."""

    def is_null(self, i: int, null: bool) -> E:
        """Key ``i`` IS NULL (``null``) or IS NOT NULL."""

    def both(self, left: E, right: E) -> E:
        """``left AND right``."""

    def negate(self, part: E) -> E:
        """``NOT part``."""


class OrderedKey(Protocol):
    """What the plan needs to know about a sort key besides its values."""

    @property
    def descending(self) -> bool:
        """Whether the key runs from greatest to least (in the walk's direction)."""

    @property
    def nullable(self) -> bool:
        """Whether the key can be NULL (NULL is greater than every value)."""


def keyset_plan(
    algebra: KeyAlgebra[E],
    keys: Sequence[OrderedKey],
    values: Sequence[Any],
    *,
    inclusive: bool = False,
) -> list[E]:
    """Disjoint, index-friendly conditions whose union is "after the cursor".

    The first is the merged range in the expanded form
    ``a >= :a AND NOT (a = :a AND NOT (...))`` (never an OR chain); the others select
    NULL rows that come after the cursor (NULL is greater than every value), such as
    ``a IS NULL`` or ``a = :a AND b IS NULL``. Each is served by one index range.
    "After" follows each key's direction.

    Three-valued logic is safe: each condition is TRUE exactly for its rows and FALSE or
    NULL otherwise, and ``NOT (a = :a AND NOT p)`` equals ``p`` wherever ``a = :a``.
    """
    if len(keys) != len(values):
        raise ValueError("one cursor value is needed per sort key")
    descending = [key.descending for key in keys]
    nullable = [key.nullable for key in keys]
    main, extras = _Plan(algebra, descending, nullable, values, inclusive).at(0)
    return ([] if main is None else [main]) + extras


@dataclass(frozen=True, slots=True)
class _Plan(Generic[E]):
    algebra: KeyAlgebra[E]
    descending: Sequence[bool]
    nullable: Sequence[bool]
    values: Sequence[Any]
    inclusive: bool

    def equal(self, i: int, value: Any) -> E:
        if value is None:
            return self.algebra.is_null(i, True)
        return self.algebra.compare(i, "exact", value)

    def after(self, i: int, value: Any, *, or_equal: bool = False) -> E:
        if self.descending[i]:
            return self.algebra.compare(i, "lte" if or_equal else "lt", value)
        return self.algebra.compare(i, "gte" if or_equal else "gt", value)

    def at(self, i: int) -> tuple[E | None, list[E]]:
        """The main range and the NULL extras for keys ``i`` onwards."""
        algebra, value = self.algebra, self.values[i]
        last = i == len(self.values) - 1
        sub_main: E | None = None
        sub_extras: list[E] = []
        if not last:
            sub_main, sub_extras = self.at(i + 1)
        equal = self.equal(i, value)
        extras = [algebra.both(equal, extra) for extra in sub_extras]
        if value is None:
            # Rows equal on this key continue with the next keys; a NULL has no range.
            if last:
                main = equal if self.inclusive else None
            else:
                main = None if sub_main is None else algebra.both(equal, sub_main)
            if self.nullable[i] and self.descending[i]:
                # Descending, NULLs come first: every non-NULL value is after the cursor.
                extras.append(algebra.is_null(i, False))
            return main, extras
        if last:
            main = self.after(i, value, or_equal=self.inclusive)
        elif sub_main is None:
            main = self.after(i, value)
        else:
            main = algebra.both(
                self.after(i, value, or_equal=True),
                algebra.negate(algebra.both(equal, algebra.negate(sub_main))),
            )
        if self.nullable[i] and not self.descending[i]:  # ascending: NULLs follow every value
            extras.append(algebra.is_null(i, True))
        return main, extras
