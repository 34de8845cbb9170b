"""API keys without I/O: their format, their stored digest and the decisions about them.

A key reads ``<prefix>_<id>_<secret>``: ``id`` is 16 hex digits (64 random bits) that the
store looks the key up by, ``secret`` 43 base64url characters (256 random bits from
``secrets``). Only ``HMAC-SHA256(server key, "<id>:<secret>")`` is stored. A server key,
unlike a password hash, makes the digest worthless to whoever reads the table without the
key, and it costs one hash, so checking a key is a primary-key read and a few microseconds
(bcrypt would spend ~250 ms per request on a secret that already has 256 bits of entropy).

Several server keys may be configured for rotation: the first computes new digests, every
one is tried when a key is checked, so keys created before a rotation keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from backendkit.errors import ConfigurationError

__all__ = [
    "LAST_USED_INTERVAL",
    "MAX_KEY_LENGTH",
    "ApiKey",
    "ApiKeyDigester",
    "ApiKeyRecord",
    "KeyCreator",
    "NewApiKey",
    "ParsedKey",
    "check_prefix",
    "key_from_row",
    "needs_touch",
    "new_key_parts",
    "parse_key",
    "record_from_row",
    "record_values",
    "scopes_of",
]

#: At most one ``last_used_at`` write per key per this many seconds.
LAST_USED_INTERVAL = 60.0
#: A presented key longer than this is refused unread.
MAX_KEY_LENGTH = 128
_ID_BYTES = 8
_SECRET_BYTES = 32
_PREFIX = re.compile(r"[a-z][a-z0-9]{0,15}")
_ID = re.compile(r"[0-9a-f]{16}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_MIN_SERVER_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as its owner sees it after creation: everything but the secret.

    Attributes:
        id: the public id (16 hex digits), also the key's resource id.
        prefix: ``"<prefix>_<id>"``, the leading part of the key, safe to display.
        name: the owner's label.
        user_id: the owner (the creator's ``user_id``).
        scopes: what the key grants (a subset of its creator's scopes).
        created_at: creation time (seconds since the epoch, the service's clock).
        expires_at: expiry time, or ``None`` for a key that does not expire.
        last_used_at: the last accepted use, to the minute, or ``None``.
        revoked_at: when it was revoked, or ``None``.
    """

    id: str
    prefix: str
    name: str
    user_id: str
    scopes: frozenset[str]
    created_at: float
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None

    def is_active(self, now: float) -> bool:
        """True when the key is neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What a store keeps: the key's public fields and the digest of its secret.

    Attributes:
        key: the public fields.
        digest: ``HMAC-SHA256`` of ``"<id>:<secret>"`` under the first server key (hex).
    """

    key: ApiKey
    digest: str


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just created: the only time its full text exists outside the client.

    Attributes:
        key: the public fields.
        secret: the full key, ``<prefix>_<id>_<secret>``; show it once, never store it.
    """

    key: ApiKey
    secret: str

    def __repr__(self) -> str:
        # Never the secret, whoever prints or logs the object.
        return f"NewApiKey(key={self.key!r}, secret='***')"


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A presented key split into its parts (only its form has been checked)."""

    prefix: str
    id: str
    secret: str


class KeyCreator(Protocol):
    """Who asks for a key: a [`Principal`][backendkit.web.Principal] has these fields."""

    @property
    def user_id(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def scopes(self) -> frozenset[str]: ...


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is 1-16 lower-case letters and digits, starting with a letter.

    Raises:
        ConfigurationError: it is not.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            "an API key prefix is 1-16 lower-case letters or digits starting with a letter"
        )
    return prefix


def new_key_parts(prefix: str) -> ParsedKey:
    """Fresh random parts of a key: a 64-bit public id and a 256-bit secret."""
    return ParsedKey(prefix, secrets.token_hex(_ID_BYTES), secrets.token_urlsafe(_SECRET_BYTES))


def parse_key(text: str, prefix: str) -> ParsedKey | None:
    """Split a presented key, or ``None`` when it is not one of ``prefix``'s keys.

    Example:
        >>> parse_key("bk_0123456789abcdef_" + "A" * 43, "bk").id
        '0123456789abcdef'
        >>> parse_key("bk_0123456789abcdef_short", "bk") is None
        True
    """
    if len(text) > MAX_KEY_LENGTH:
        return None
    head, sep, rest = text.partition("_")
    key_id, sep2, secret = rest.partition("_")
    if (
        not sep
        or not sep2
        or head != prefix
        or not _ID.fullmatch(key_id)
        or not _SECRET.fullmatch(secret)
    ):
        return None
    return ParsedKey(head, key_id, secret)


class ApiKeyDigester:
    """Computes and checks the stored digest of a key's secret with the server keys.

    Args:
        keys: the server keys, newest first (each at least 32 bytes): the first computes
            new digests, all are tried when checking.

    Raises:
        ConfigurationError: no key, or a key shorter than 32 bytes.
    """

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys or any(len(key) < _MIN_SERVER_KEY_BYTES for key in keys):
            raise ConfigurationError("API keys need server keys of at least 32 bytes each")
        self._keys = tuple(keys)

    def digest(self, parts: ParsedKey) -> str:
        """The digest to store for a new key (the first server key)."""
        return _digest(self._keys[0], parts)

    def matches(self, parts: ParsedKey, stored: str) -> bool:
        """True when ``parts`` digest to ``stored`` under one of the server keys (each
        comparison in constant time; every key is tried, so the time does not say which)."""
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(_digest(key, parts), stored)
        return found


def _digest(key: bytes, parts: ParsedKey) -> str:
    message = f"{parts.id}:{parts.secret}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def scopes_of(requested: Iterable[str] | None, creator: KeyCreator) -> frozenset[str] | None:
    """The scopes a new key gets: the requested ones (the creator's when ``None``), or
    ``None`` when one of them is not the creator's to give."""
    wanted = creator.scopes if requested is None else frozenset(requested)
    return wanted if wanted <= creator.scopes else None


def needs_touch(key: ApiKey, now: float) -> bool:
    """True when ``last_used_at`` is due a write (never, or ``LAST_USED_INTERVAL`` ago)."""
    return key.last_used_at is None or now - key.last_used_at >= LAST_USED_INTERVAL


def record_values(record: ApiKeyRecord) -> dict[str, Any]:
    """The column values of a new key's row (the SQLAlchemy columns and the Django fields
    have the same names)."""
    key = record.key
    return {
        "id": key.id,
        "prefix": key.prefix,
        "user_id": key.user_id,
        "name": key.name,
        "scopes": sorted(key.scopes),
        "digest": record.digest,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def record_from_row(row: Any) -> ApiKeyRecord:
    """The [`ApiKeyRecord`][backendkit.auth.ApiKeyRecord] of a stored row."""
    return ApiKeyRecord(key_from_row(row), row.digest)


def key_from_row(row: Any) -> ApiKey:
    """The [`ApiKey`][backendkit.auth.ApiKey] of a stored row (a SQLAlchemy row or a Django
    model instance: both name their fields like ``ApiKey``)."""
    return ApiKey(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        user_id=row.user_id,
        scopes=frozenset(row.scopes or ()),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
