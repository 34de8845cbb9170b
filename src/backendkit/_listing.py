"""Pure listing helpers shared by the repository and the Django adapter.

* [`parse_sort`][]: ``"-createdAt,name"`` -> ``(("createdAt", True), ("name", False))``,
  refusing anything not allowlisted.
* [`keyset_plan`][]: the keyset ("after this row") conditions, written once for any query
  language that implements [`KeyAlgebra`][] (SQLAlchemy, the Django ORM).
* [`CursorState`][]: what a keyset cursor carries (the key values of a row, the direction)
  and how those values survive JSON with their types (datetime, Decimal, UUID...).

Cursors are signed by [`CursorCodec`][backendkit.cursor.CursorCodec] and bound to the sort
and filters they were made for, so they cannot be replayed against another query.
No database library is imported here.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

from backendkit.errors import ErrorDetail, ValidationFailed

__all__ = [
    "CursorState",
    "KeyAlgebra",
    "decode_values",
    "encode_values",
    "keyset_plan",
    "parse_sort",
]

_MAX_SORT_FIELDS = 5


def parse_sort(
    text: str | None,
    fields: Collection[str],
    *,
    default: str | None,
    param: str = "sort",
) -> tuple[tuple[str, bool], ...]:
    """Parse ``"-createdAt,name"`` into ``(("createdAt", True), ("name", False))``.

    Raises:
        ValidationFailed: naming ``param`` for an unknown, repeated or empty field. The
            messages name the allowed fields, never the client's text (it may be hostile
            and is never echoed).
    """
    source = text if text not in (None, "") else default
    if not source:
        return ()
    parsed: list[tuple[str, bool]] = []
    problems: list[str] = []
    for part in source.split(","):
        token = part.strip()
        descending = token.startswith("-")
        name = token[1:] if descending or token.startswith("+") else token
        if not name:
            problems.append("contains an empty field")
        elif name not in fields:
            allowed = ", ".join(sorted(fields))
            unknown = f"can sort only by {allowed}" if allowed else "cannot be used here"
            if unknown not in problems:  # one message however many unknown names
                problems.append(unknown)
        elif any(existing == name for existing, _ in parsed):
            problems.append(f"names '{name}' more than once")  # an allowlisted name
        else:
            parsed.append((name, descending))
    if len(parsed) > _MAX_SORT_FIELDS:
        problems.append(f"accepts at most {_MAX_SORT_FIELDS} fields")
    if problems:
        raise ValidationFailed(
            "Invalid sort", details=[ErrorDetail(param, message) for message in problems]
        )
    return tuple(parsed)


@dataclass(frozen=True, slots=True)
class CursorState:
    """A decoded cursor: the key values of a row and which way to walk from it."""

    values: tuple[Any, ...]
    backward: bool = False
    inclusive: bool = False

    def to_payload(self) -> dict[str, Any]:
        """The JSON payload signed into the cursor token."""
        return {"k": encode_values(self.values), "b": self.backward, "i": self.inclusive}

    @classmethod
    def from_payload(cls, payload: Any, key_count: int) -> CursorState:
        """Rebuild a state from a verified payload; a malformed one is a validation error."""
        if not isinstance(payload, dict) or set(payload) != {"k", "b", "i"}:
            raise _invalid()
        values, backward, inclusive = payload["k"], payload["b"], payload["i"]
        if (
            not isinstance(values, list)
            or len(values) != key_count
            or not isinstance(backward, bool)
            or not isinstance(inclusive, bool)
        ):
            raise _invalid()
        return cls(decode_values(values), backward, inclusive)


def _invalid() -> ValidationFailed:
    return ValidationFailed("Invalid cursor", details=[ErrorDetail("cursor", "is invalid")])


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, enum.Enum):
            return ["e", value.name]
        return value
    if isinstance(value, dt.datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, dt.time):
        return ["t", value.isoformat()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["b", base64.b64encode(bytes(value)).decode("ascii")]
    if isinstance(value, enum.Enum):
        return ["e", value.name]
    raise TypeError(f"cannot put a {type(value).__name__} into a cursor")


_DECODERS: dict[str, Any] = {
    "dt": dt.datetime.fromisoformat,
    "d": dt.date.fromisoformat,
    "t": dt.time.fromisoformat,
    "n": Decimal,
    "f": float,
    "u": uuid.UUID,
    "b": lambda text: base64.b64decode(text, validate=True),
    "e": str,  # SQLAlchemy's Enum type accepts a member's name
}


def _decode(item: Any) -> Any:
    if item is None or isinstance(item, (bool, int, str)):
        return item
    if isinstance(item, list) and len(item) == 2 and item[0] in _DECODERS:
        tag, text = item
        if isinstance(text, str):
            try:
                return _DECODERS[tag](text)
            except (ValueError, InvalidOperation):
                pass
    raise _invalid()


def encode_values(values: Sequence[Any]) -> list[Any]:
    """Encode key values for a cursor payload (JSON-ready, type-tagged)."""
    return [_encode(value) for value in values]


def decode_values(items: Sequence[Any]) -> tuple[Any, ...]:
    """Decode key values from a verified payload; anything unexpected is invalid."""
    return tuple(_decode(item) for item in items)


E = TypeVar("E")


class KeyAlgebra(Protocol[E]):
    """How one query language says the few things keyset conditions need.

    Index ``i`` is the position of a sort key (primary key last). Comparisons are
    direction-aware: "after" means later in the walk order.
    """

    def equal(self, i: int, value: Any) -> E:
        """Key ``i`` equals ``value`` (IS NULL when ``value`` is None)."""

    def after(self, i: int, value: Any) -> E:
        """Key ``i`` strictly after ``value`` (never true for NULL)."""

    def at_or_after(self, i: int, value: Any) -> E:
        """Key ``i`` equal to or after ``value`` (never true for NULL)."""

    def is_null(self, i: int) -> E:
        """Key ``i`` IS NULL."""

    def is_not_null(self, i: int) -> E:
        """Key ``i`` IS NOT NULL."""

    def both(self, left: E, right: E) -> E:
        """``left AND right``."""

    def negate(self, part: E) -> E:
        """``NOT part``."""


def keyset_plan(
    algebra: KeyAlgebra[E],
    descending: Sequence[bool],
    nullable: Sequence[bool],
    values: Sequence[Any],
    *,
    inclusive: bool = False,
) -> list[E]:
    """Disjoint, index-friendly conditions whose union is "after the cursor".

    The first is the merged range in the expanded form
    ``a >= :a AND NOT (a = :a AND NOT (...))`` (never an OR chain); the others select
    NULL rows that come after the cursor (NULL is greater than every value), such as
    ``a IS NULL`` or ``a = :a AND b IS NULL``. Each is served by one index range.

    Three-valued logic is safe: each condition is TRUE exactly for its rows and FALSE or
    NULL otherwise, and ``NOT (a = :a AND NOT p)`` equals ``p`` wherever ``a = :a``.
    """
    if not len(descending) == len(nullable) == len(values):
        raise ValueError("one cursor value is needed per sort key")
    main, extras = _plan(algebra, descending, nullable, values, 0, inclusive)
    return ([] if main is None else [main]) + extras


def _plan(
    algebra: KeyAlgebra[E],
    descending: Sequence[bool],
    nullable: Sequence[bool],
    values: Sequence[Any],
    i: int,
    inclusive: bool,
) -> tuple[E | None, list[E]]:
    value = values[i]
    last = i == len(values) - 1
    sub_main: E | None = None
    sub_extras: list[E] = []
    if not last:
        sub_main, sub_extras = _plan(algebra, descending, nullable, values, i + 1, inclusive)
    equal = algebra.equal(i, value)
    extras = [algebra.both(equal, extra) for extra in sub_extras]
    if value is None:
        # Rows equal on this key continue with the next keys; a NULL has no range.
        if last:
            main = equal if inclusive else None
        else:
            main = None if sub_main is None else algebra.both(equal, sub_main)
        if nullable[i] and descending[i]:
            # Descending, NULLs come first: every non-NULL value is after the cursor.
            extras.append(algebra.is_not_null(i))
        return main, extras
    if last:
        main = algebra.at_or_after(i, value) if inclusive else algebra.after(i, value)
    elif sub_main is None:
        main = algebra.after(i, value)
    else:
        main = algebra.both(
            algebra.at_or_after(i, value),
            algebra.negate(algebra.both(equal, algebra.negate(sub_main))),
        )
    if nullable[i] and not descending[i]:  # ascending: NULLs follow every value
        extras.append(algebra.is_null(i))
    return main, extras
