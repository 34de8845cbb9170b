"""API keys on the wire: the body that asks for a key and the bodies that describe one.

One shape for every framework (``POST /api/v1/auth/api-keys`` and its list), camelCase
like the rest of the wire format. Times are ISO 8601 in UTC; the secret appears only in
the answer to the creation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from backendkit.auth._api_key_core import ApiKey, NewApiKey
from backendkit.validation import ApiModel

__all__ = ["ApiKeyRequest", "api_key_body", "new_api_key_body"]

_DAY = 86400.0


class ApiKeyRequest(ApiModel):
    """The body of a key creation: ``{"name", "scopes"?, "expiresInDays"?}``.

    Attributes:
        name: the owner's label (1-100 characters).
        scopes: what the key grants; omitted, all the caller's scopes.
        expires_in_days: lifetime in days (1-3650); omitted, the key does not expire.

    Example:
        >>> ApiKeyRequest.model_validate({"name": "ci", "expiresInDays": 30}).expires_in
        2592000.0
    """

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @property
    def expires_in(self) -> float | None:
        """The lifetime in seconds, as ``ApiKeyService.create`` takes it."""
        return None if self.expires_in_days is None else self.expires_in_days * _DAY


def api_key_body(key: ApiKey) -> dict[str, Any]:
    """A key as its owner lists it: ``{id, name, prefix, scopes, createdAt, expiresAt,
    lastUsedAt}`` (never a secret)."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "createdAt": _iso(key.created_at),
        "expiresAt": _iso(key.expires_at),
        "lastUsedAt": _iso(key.last_used_at),
    }


def new_api_key_body(new: NewApiKey) -> dict[str, Any]:
    """The answer to a creation: the listed fields plus ``key``, the only time it is shown."""
    return {**api_key_body(new.key), "key": new.secret}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")
