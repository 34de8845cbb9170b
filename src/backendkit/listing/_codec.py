"""Opaque, tamper-evident pagination cursors.

A cursor is ``<payload>.<tag>``: the payload is a JSON object (for keyset pagination, the
sort values of the last row and the direction) in unpadded base64url, and the tag is an
HMAC-SHA256 over a version label, the *binding* and the payload text. The binding is a
digest of the sort and filters the cursor was made for
([`cursor_binding`][backendkit.listing.cursor_binding]), so a cursor taken from one listing
cannot be replayed against another sort or filter. Clients can read a payload but cannot
change it; they should treat the token as opaque.

Decoding refuses, with one generic ``VALIDATION_ERROR`` on field ``cursor``: a token over
4 KiB (before any work), any text that is not canonical base64url, a wrong tag under every
configured key, a payload that is not a JSON object, and any token made for another binding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from backendkit._b64 import b64url_decode_canonical, b64url_encode
from backendkit.errors import BadRequest, ConfigurationError, ErrorDetail, ValidationFailed
from backendkit.listing._params import MAX_CURSOR_LENGTH
from backendkit.validation import parse_json

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = [
    "CursorCodec",
    "cursor_binding",
]

# Versioned domain separation: a tag made for something else never verifies as a cursor.
_LABEL = b"backendkit.cursor.v1\x00"
_MIN_KEY_BYTES = 16
_PAYLOAD_MAX_DEPTH = 16


def cursor_binding(sort: Any, filters: Any = None, *, scope: str = "") -> str:
    """Return a stable digest of what a cursor is for: the sort, the filters, a scope.

    Any JSON-able values work; object keys are sorted first, so the same description
    always gives the same digest. Include the resource name as ``scope`` when several
    endpoints share a codec.

    Raises:
        TypeError: a value is not JSON-able.
        ValueError: a float is NaN or infinite.

    Example:
        >>> a = cursor_binding(["-created_at", "id"], {"role": "admin"}, scope="users")
        >>> a == cursor_binding(["-created_at", "id"], {"role": "admin"}, scope="users")
        True
        >>> a == cursor_binding(["created_at", "id"], {"role": "admin"}, scope="users")
        False
    """
    canonical = json.dumps(
        [scope, sort, filters],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


class CursorCodec:
    """Signs cursor payloads into opaque tokens and verifies them back.

    Args:
        keys: signing keys, newest first (at least 16 bytes each): the first signs, every
            key verifies, so a key can be rotated without breaking cursors in flight.

    Example:
        >>> codec = CursorCodec([b"k" * 32])
        >>> binding = cursor_binding(["id"])
        >>> token = codec.encode({"after": 42}, binding=binding)
        >>> codec.decode(token, binding=binding)
        {'after': 42}
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if isinstance(keys, bytes | bytearray) or not keys:
            raise ConfigurationError("CursorCodec needs a non-empty list of keys")
        if any(len(key) < _MIN_KEY_BYTES for key in keys):
            raise ConfigurationError(f"cursor keys must be at least {_MIN_KEY_BYTES} bytes")
        self._keys = tuple(bytes(key) for key in keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> CursorCodec:
        """Build a codec from the ``cursor`` keys derived from the settings' secret keys."""
        return cls(settings.derive_keys("cursor"))

    def encode(self, payload: Mapping[str, Any], *, binding: str) -> str:
        """Return the token for ``payload`` (a JSON-able mapping) made for ``binding``.

        Values come back from [`decode`][backendkit.listing.CursorCodec.decode] as their
        JSON form (a ``datetime`` as an ISO string, a tuple as a list).

        Raises:
            ValueError: the token would be longer than 4096 characters, or the payload is
                nested deeper than 16 levels or is not JSON-able.
        """
        if not isinstance(payload, Mapping):
            raise TypeError("a cursor payload must be a mapping")
        raw = to_json(dict(payload), inf_nan_mode="null")
        try:  # refuse here what decode would refuse, so a token we issue always decodes
            parse_json(raw, len(raw), max_depth=_PAYLOAD_MAX_DEPTH)
        except BadRequest:
            raise ValueError("cursor payload nested too deeply") from None
        body = b64url_encode(raw)
        token = body + "." + b64url_encode(self._tag(self._keys[0], binding, body))
        if len(token) > MAX_CURSOR_LENGTH:
            raise ValueError(f"cursor payload too large (over {MAX_CURSOR_LENGTH} characters)")
        return token

    def decode(self, token: str, *, binding: str) -> dict[str, Any]:
        """Return the payload of ``token`` if it was made by this codec for ``binding``.

        Raises:
            ValidationFailed: on field ``cursor`` for any token that is too long, not
                canonical, tampered with, truncated, signed by another key, or made for
                another binding. The message is the same in every case.
        """
        if not isinstance(token, str) or len(token) > MAX_CURSOR_LENGTH:
            raise _invalid()
        body, dot, tag_text = token.partition(".")
        if not dot or not body:
            raise _invalid()
        try:
            tag = b64url_decode_canonical(tag_text)
            raw = b64url_decode_canonical(body)
        except ValueError:
            raise _invalid() from None
        if not any(hmac.compare_digest(tag, self._tag(key, binding, body)) for key in self._keys):
            raise _invalid()
        # The tag verified, so this is our own output; parse defensively all the same.
        try:
            payload = parse_json(raw, MAX_CURSOR_LENGTH, max_depth=_PAYLOAD_MAX_DEPTH)
        except BadRequest:
            raise _invalid() from None
        if not isinstance(payload, dict):
            raise _invalid()
        return payload

    @staticmethod
    def _tag(key: bytes, binding: str, body: str) -> bytes:
        # The body is base64url (never NUL), so the last NUL splits binding from body.
        message = _LABEL + binding.encode("utf-8", "surrogatepass") + b"\x00" + body.encode()
        return hmac.new(key, message, hashlib.sha256).digest()


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        "The cursor is invalid", details=[ErrorDetail("cursor", "The cursor is invalid")]
    )
