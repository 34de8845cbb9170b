"""API keys beside bearer tokens: which credential a request carries, and its principal.

A request may present an API key as ``Authorization: ApiKey <key>`` or ``X-API-Key: <key>``
when the kit has an [`ApiKeyService`][backendkit.auth.ApiKeyService]; otherwise its
credential is a bearer token (header, or cookie with CSRF). A request that sends both an
``Authorization`` header and ``X-API-Key`` is refused: which one should win would be a
guess, and RFC 6750 (section 2) forbids more than one method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from backendkit.errors import ConfigurationError, Unauthenticated
from backendkit.web._auth import aauthenticate, authenticate, credentials
from backendkit.web._kit import WebKit
from backendkit.web._principal import Principal

if TYPE_CHECKING:
    from backendkit.auth import ApiKey, ApiKeyService

__all__ = [
    "API_KEY_HEADER",
    "Credential",
    "aauthenticate_credential",
    "api_key_from",
    "authenticate_credential",
    "principal_from_api_key",
    "request_credential",
]

#: The header an API key may come in, beside ``Authorization: ApiKey <key>``.
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True, slots=True)
class Credential:
    """What a request presented: a bearer token or an API key (never logged).

    Attributes:
        scheme: ``"bearer"`` (a token, from the header or the cookie) or ``"api_key"``.
        value: the token or the key.
    """

    scheme: Literal["bearer", "api_key"]
    value: str

    def __repr__(self) -> str:
        return f"Credential(scheme={self.scheme!r}, value='***')"


def api_key_from(authorization: str | None, api_key: str | None) -> str | None:
    """The API key of a request's ``Authorization`` and ``X-API-Key`` headers, if any.

    Raises:
        Unauthenticated: both headers are sent, or ``ApiKey`` names no key.

    Example:
        >>> api_key_from("ApiKey bk_x", None), api_key_from(None, " bk_y ")
        ('bk_x', 'bk_y')
        >>> api_key_from("Bearer a.b.c", None) is None
        True
    """
    auth = (authorization or "").strip()
    header = (api_key or "").strip()
    if header:
        if auth:
            raise Unauthenticated("Send one credential: an Authorization header or X-API-Key")
        return header
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "apikey":
        return None
    if not value.strip():
        raise Unauthenticated("The Authorization header must be 'ApiKey <key>'")
    return value.strip()


def request_credential(
    kit: WebKit,
    *,
    method: str,
    authorization: str | None,
    api_key: str | None,
    cookies: Mapping[str, str],
    headers: Mapping[str, str],
) -> Credential | None:
    """The request's credential: an API key (when ``kit.api_keys`` is set), else a bearer
    token as [`credentials`][backendkit.web.credentials] finds it.

    Raises:
        Unauthenticated: a malformed ``Authorization`` header, or two credentials.
        Forbidden: a cookie-authenticated unsafe request failed the CSRF check.
    """
    if kit.api_keys is not None:
        key = api_key_from(authorization, api_key)
        if key is not None:
            return Credential("api_key", key)
    token = credentials(
        kit, method=method, authorization=authorization, cookies=cookies, headers=headers
    )
    return None if token is None else Credential("bearer", token)


def principal_from_api_key(key: ApiKey) -> Principal:
    """The [`Principal`][backendkit.web.Principal] of an accepted API key: its owner, with
    the key's scopes and no roles (a key grants what its scopes say, nothing else);
    ``claims`` is the [`ApiKey`][backendkit.auth.ApiKey]."""
    return Principal(
        user_id=key.user_id,
        scopes=key.scopes,
        claims=key,
        method="api_key",
        subject=key.user_id,
    )


def authenticate_credential(kit: WebKit, credential: Credential) -> Principal:
    """Verify a credential (sync twin): a token as ``authenticate`` does, a key with
    ``kit.api_keys``.

    Raises:
        InvalidToken: the token or key is not accepted (401).
    """
    if credential.scheme == "api_key":
        return principal_from_api_key(_service(kit).authenticate(credential.value))
    return authenticate(kit, credential.value)


async def aauthenticate_credential(kit: WebKit, credential: Credential) -> Principal:
    """Async twin of [`authenticate_credential`][backendkit.web.authenticate_credential]."""
    if credential.scheme == "api_key":
        return principal_from_api_key(await _service(kit).aauthenticate(credential.value))
    return await aauthenticate(kit, credential.value)


def _service(kit: WebKit) -> ApiKeyService:
    if kit.api_keys is None:  # request_credential only finds keys when it is set
        raise ConfigurationError("API keys need an ApiKeyService: WebKit(api_keys=...)")
    return kit.api_keys
