"""What a keyset cursor carries: the key values of a row and which way to walk from them.

The values survive JSON with their types (datetime, Decimal, UUID, bytes, enum members) by
being tagged; a verified payload that does not have this shape is an invalid cursor.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from backendkit.errors import ErrorDetail, ValidationFailed

__all__ = ["CursorState", "decode_values", "encode_values"]


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
