"""Serialization: JSON through pydantic, decoded into the declared return type. Never pickle.

A cached value is stored as a small header plus the JSON payload::

    1|<namespace generation>|<fresh until, epoch ms>|<load time, ms>|<JSON payload>

The payload is produced by a pydantic ``TypeAdapter`` of the function's declared return type
and validated back through the same adapter, so models, dataclasses, datetimes, UUIDs,
Decimals, tuples, sets and containers of them come back as the same types. Unpickling runs
code chosen by whoever wrote the bytes; JSON validated against a declared type only ever
produces that type, so a Redis that an attacker can write to cannot run code in the app.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import ConfigDict, PydanticUserError, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

__all__ = [
    "Codec",
    "DecodeError",
    "EncodeError",
    "Entry",
    "decode_entry",
    "encode_entry",
]

T = TypeVar("T")

_FORMAT = b"1"
# Bytes as base64 (raw bytes are not valid JSON text); inf/nan as JSON5 constants so
# floats round-trip instead of turning into null.
_CONFIG = ConfigDict(
    ser_json_bytes="base64",
    val_json_bytes="base64",
    ser_json_inf_nan="constants",
)


class EncodeError(ValueError):
    """A value does not serialize as its declared type (it is then not stored)."""


class DecodeError(ValueError):
    """Stored bytes do not validate as the declared type (the entry is then a miss)."""


class Codec(Generic[T]):
    """JSON encoder/decoder for one declared type, built on first use.

    The adapter is built lazily so forward references (a method returning its own class)
    resolve once the module has finished importing.

    Args:
        type_: The declared type, or a zero-argument callable returning it (``resolve``).
        resolve: True when ``type_`` is such a callable.
    """

    def __init__(self, type_: Any, *, resolve: bool = False) -> None:
        self._type = type_
        self._resolve = resolve
        self._adapter: TypeAdapter[T] | None = None
        self._validate: Callable[[bytes], Any] | None = None
        self._to_json: Callable[..., bytes] | None = None
        self._lock = threading.Lock()

    @property
    def adapter(self) -> TypeAdapter[T]:
        """The pydantic adapter for the declared type."""
        adapter = self._adapter
        if adapter is None:
            with self._lock:
                adapter = self._adapter
                if adapter is None:
                    type_ = self._type() if self._resolve else self._type
                    adapter = self._adapter = _build_adapter(type_)
        return adapter

    def dumps(self, value: T) -> bytes:
        """Serialize ``value`` as JSON.

        Raises:
            EncodeError: the value does not match the declared type.
        """
        to_json = self._to_json
        if to_json is None:
            # The adapter's serializer itself, as for loads: dump_json only forwards its
            # keyword defaults to it (a Python call and a dozen arguments per store).
            to_json = self._to_json = self.adapter.serializer.to_json
        try:
            return to_json(value, warnings="error")
        except (PydanticSerializationError, ValueError, TypeError) as exc:
            raise EncodeError(str(exc)) from exc

    def loads(self, data: bytes) -> T:
        """Validate JSON ``data`` into the declared type.

        Raises:
            DecodeError: the data is not valid JSON for the declared type.
        """
        validate = self._validate
        if validate is None:
            # The adapter's validator itself: TypeAdapter.validate_json only forwards its
            # keyword defaults to it, a Python call per hit.
            validate = self._validate = self.adapter.validator.validate_json
        try:
            value: T = validate(data)
        except (ValidationError, ValueError) as exc:
            raise DecodeError(str(exc)) from exc
        return value


def _build_adapter(type_: Any) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(type_, config=_CONFIG)
    except PydanticUserError:
        # Models, dataclasses and TypedDicts carry their own config and refuse ours.
        return TypeAdapter(type_)


class Entry(NamedTuple):
    """A decoded entry header plus the raw JSON payload (a tuple: cheap on every hit)."""

    gen: bytes
    fresh_until: float
    delta: float
    payload: bytes


def encode_entry(gen: bytes, fresh_until: float, delta: float, payload: bytes) -> bytes:
    """Build the stored bytes of an entry (header + payload)."""
    header = b"%s|%s|%d|%d|" % (_FORMAT, gen, round(fresh_until * 1000), round(delta * 1000))
    return header + payload


def decode_entry(raw: bytes) -> Entry | None:
    """Parse stored bytes; ``None`` when the header is not ours (treated as a miss)."""
    parts = raw.split(b"|", 4)
    if len(parts) != 5 or parts[0] != _FORMAT:
        return None
    try:
        fresh_ms = int(parts[2])
        delta_ms = int(parts[3])
    except ValueError:
        return None
    return Entry(parts[1], fresh_ms / 1000.0, delta_ms / 1000.0, parts[4])
