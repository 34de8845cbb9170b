"""[`KeyRing`][backendkit.auth.KeyRing]: the signing key, older keys that still verify, JWKS."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from backendkit.auth._keys import JWTKey
from backendkit.errors import ConfigurationError

__all__ = ["KeyRing"]


class KeyRing:
    """The active signing key plus older keys that still verify, looked up by ``kid``.

    Rotation: add the new key at the front and keep the old ones until every token they
    signed has expired (see the tokens guide). A token's ``kid`` is looked up in this ring
    and nowhere else.

    Args:
        keys: the keys, newest first.
        active: ``kid`` of the signing key; by default the first key.

    Raises:
        ConfigurationError: no keys, duplicate ``kid`` values, or an active key without
            private material.

    Example:
        >>> new, old = JWTKey.generate(kid="k2"), JWTKey.generate(kid="k1")
        >>> ring = KeyRing([new, old])
        >>> ring.signing_key.kid, ring.get("k1") is old, ring.get("k9")
        ('k2', True, None)
    """

    def __init__(self, keys: Iterable[JWTKey], *, active: str | None = None) -> None:
        ordered = list(keys)
        if not ordered:
            raise ConfigurationError("a key ring needs at least one key")
        by_kid: dict[str, JWTKey] = {}
        for key in ordered:
            if not isinstance(key, JWTKey):
                raise ConfigurationError("a key ring holds JWTKey objects")
            if key.kid in by_kid:
                raise ConfigurationError(f"duplicate key id {key.kid!r} in the key ring")
            by_kid[key.kid] = key
        chosen = by_kid.get(active) if active is not None else ordered[0]
        if chosen is None:
            raise ConfigurationError(f"no key with id {active!r} in the key ring")
        if not chosen.can_sign:
            raise ConfigurationError("the active key must hold private material to sign")
        self._keys = by_kid
        self._order: tuple[JWTKey, ...] = tuple(ordered)
        self._signing = chosen

    @classmethod
    def of(cls, keys: KeyRing | JWTKey | Sequence[JWTKey]) -> KeyRing:
        """Return ``keys`` as a ring (a single key or a list becomes a new ring)."""
        if isinstance(keys, KeyRing):
            return keys
        if isinstance(keys, JWTKey):
            return cls([keys])
        return cls(keys)

    @property
    def signing_key(self) -> JWTKey:
        """The key new tokens are signed with."""
        return self._signing

    @property
    def keys(self) -> tuple[JWTKey, ...]:
        """Every key, in the order given."""
        return self._order

    @property
    def algorithms(self) -> frozenset[str]:
        """The algorithms of the keys in the ring."""
        return frozenset(key.algorithm for key in self._order)

    def get(self, kid: str) -> JWTKey | None:
        """The key with this id, or ``None``."""
        return self._keys.get(kid)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JWKS document (``{"keys": [...]}``); never an HMAC key."""
        keys = [jwk for jwk in (key.public_jwk() for key in self._order) if jwk is not None]
        return {"keys": keys}
