"""Credentials from a request: Bearer header, cookie transport with CSRF, roles and scopes.

A bearer token is verified by the app's own ``TokenService`` (``kit.tokens``) or, when its
``iss`` names one of ``kit.providers``, by that identity provider's verifier. The issuer is
read from the unverified payload only to choose the verifier; the chosen one then checks
everything, ``iss`` included, so a forged ``iss`` only picks which check fails.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from backendkit.errors import ConfigurationError, Forbidden, InvalidToken, Unauthenticated
from backendkit.logging import security_event
from backendkit.web._kit import CookieAuth, WebKit
from backendkit.web._principal import Principal

if TYPE_CHECKING:
    from backendkit.auth import OIDCVerifier, ProviderClaims

__all__ = [
    "Principal",
    "aauthenticate",
    "auth_cookie_headers",
    "authenticate",
    "bearer_token",
    "check_roles",
    "check_scopes",
    "credentials",
    "new_csrf_token",
    "principal_from_claims",
    "principal_from_provider",
    "provider_for",
]

# A token longer than this is not read to route it (the verifiers refuse it unread too).
_PEEK_MAX_BYTES = 65536
# RFC 6750 b64token: the characters a Bearer token may contain.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def bearer_token(authorization: str | None) -> str | None:
    """Extract the token from an ``Authorization: Bearer <token>`` header.

    Returns:
        The token, or ``None`` when the header is absent or empty.

    Raises:
        Unauthenticated: the header is present but is not a well-formed Bearer credential
            (``401`` with ``WWW-Authenticate: Bearer``).

    Example:
        >>> bearer_token("Bearer abc.def.ghi")
        'abc.def.ghi'
    """
    if authorization is None or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not _B64TOKEN.fullmatch(token):
        raise Unauthenticated("The Authorization header must be 'Bearer <token>'")
    return token


def credentials(
    kit: WebKit,
    *,
    method: str,
    authorization: str | None,
    cookies: Mapping[str, str],
    headers: Mapping[str, str],
) -> str | None:
    """Find the request's access token: the Bearer header first, then the auth cookie.

    The cookie is used only when ``kit.cookie_auth`` is configured, and for unsafe methods
    only after the CSRF double-submit check passes.

    Args:
        kit: the web kit.
        method: the HTTP method.
        authorization: the ``Authorization`` header.
        cookies: the request cookies.
        headers: request headers; looked up by the configured CSRF header name, so pass a
            case-insensitive mapping (every framework's header object is one).

    Returns:
        The token, or ``None`` when the request carries no credentials.

    Raises:
        Unauthenticated: a malformed ``Authorization`` header.
        Forbidden: a cookie-authenticated unsafe request failed the CSRF check.
    """
    token = bearer_token(authorization)
    if token is not None or kit.cookie_auth is None:
        return token
    cookie_token = cookies.get(kit.cookie_auth.access_cookie)
    if not cookie_token:
        return None
    if method.upper() not in _SAFE_METHODS:
        check_csrf(kit.cookie_auth, cookies=cookies, headers=headers)
    return cookie_token


def check_csrf(
    config: CookieAuth, *, cookies: Mapping[str, str], headers: Mapping[str, str]
) -> None:
    """Double-submit check: the CSRF header must equal the CSRF cookie (constant time).

    Raises:
        Forbidden: the cookie or header is missing, or they differ.
    """
    cookie = cookies.get(config.csrf_cookie) or ""
    header = headers.get(config.csrf_header) or ""
    if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise Forbidden("CSRF token missing or invalid")


def new_csrf_token() -> str:
    """Return a fresh random CSRF token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def auth_cookie_headers(
    config: CookieAuth, access_token: str, *, max_age: int, csrf_token: str | None = None
) -> list[str]:
    """``Set-Cookie`` values for a login response using the cookie transport.

    The access cookie is ``HttpOnly``; the CSRF cookie is readable by the page's script,
    which echoes it in the CSRF header.

    Args:
        config: the cookie settings.
        access_token: the token to store.
        max_age: cookie lifetime in seconds (the token's lifetime).
        csrf_token: the CSRF token; a new one when omitted.
    """
    attrs = f"Path={config.path}; Max-Age={int(max_age)}; SameSite={config.samesite.capitalize()}"
    if config.secure:
        attrs += "; Secure"
    csrf = csrf_token or new_csrf_token()
    return [
        f"{config.access_cookie}={access_token}; {attrs}; HttpOnly",
        f"{config.csrf_cookie}={csrf}; {attrs}",
    ]


def check_roles(principal: Principal, roles: Iterable[str]) -> None:
    """Require at least one of ``roles``.

    Raises:
        Forbidden: the principal holds none of them.
    """
    wanted = tuple(roles)
    if wanted and not principal.has_role(*wanted):
        raise Forbidden()


def check_scopes(principal: Principal, scopes: Iterable[str]) -> None:
    """Require every one of ``scopes``.

    Raises:
        Forbidden: a scope is missing.
    """
    if not principal.has_scopes(*scopes):
        raise Forbidden()


def principal_from_claims(claims: Any) -> Principal:
    """Build a [`Principal`][backendkit.web.Principal] from verified token claims.

    Roles come from a ``roles`` claim (a list, or one string); scopes from an OAuth-style
    space-separated ``scope`` string or a ``scopes`` list.
    """
    return Principal(
        user_id=str(claims.sub),
        roles=_strings(claims.get("roles")),
        scopes=_strings(claims.get("scope")) | _strings(claims.get("scopes")),
        claims=claims,
        issuer=claims.get("iss"),
        subject=str(claims.sub),
    )


def principal_from_provider(claims: ProviderClaims) -> Principal:
    """Build a [`Principal`][backendkit.web.Principal] from a provider's verified claims.

    Roles and scopes are what the verifier's mapping granted, nothing else. ``user_id``
    is ``"<issuer>#<sub>"``, which never equals a local id: only the kit's ``user_loader``
    links the provider's ``(issuer, subject)`` to a local user (see
    [`LinkedUser`][backendkit.web.LinkedUser]).
    """
    return Principal(
        user_id=f"{claims.iss}#{claims.sub}",
        roles=claims.roles,
        scopes=claims.scopes,
        claims=claims,
        issuer=claims.iss,
        method="provider",
        subject=claims.sub,
    )


def provider_for(kit: WebKit, token: str) -> OIDCVerifier | None:
    """The verifier of ``kit.providers`` whose issuer the token names, if any.

    The ``iss`` claim is read without verification, only to choose the verifier; ``None``
    sends the token to the app's own token service.
    """
    providers = kit.providers
    if not providers or len(token) > _PEEK_MAX_BYTES:
        return None
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        # Lenient base64 is enough to route: the chosen verifier insists on the canonical form.
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    for provider in providers:
        if provider.issuer == issuer:
            return provider
    return None


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(item) for item in value)
    return frozenset()


def _token_service(kit: WebKit) -> Any:
    if kit.tokens is None:
        if kit.providers:
            # Only providers' tokens are accepted here, and this names none of them.
            security_event("token_rejected", reason="unknown_issuer", expected="access")
            raise InvalidToken()
        raise ConfigurationError("authentication needs a TokenService: WebKit(tokens=...)")
    return kit.tokens


def authenticate(kit: WebKit, token: str) -> Principal:
    """Verify an access token with the provider its issuer names, else ``kit.tokens``
    (sync twin).

    Raises:
        InvalidToken: the token does not verify (401).
        BackendUnavailable: revocation checking is on and the store is down (503).
        ServiceUnavailable: a provider's key is not cached and the provider is down (503).
        ConfigurationError: the kit has neither a token service nor providers.
    """
    provider = provider_for(kit, token) if kit.providers else None
    if provider is not None:
        return principal_from_provider(provider.verify(token))
    return principal_from_claims(_token_service(kit).verify_access(token))


async def aauthenticate(kit: WebKit, token: str) -> Principal:
    """Async twin of [`authenticate`][backendkit.web.authenticate]: the revocation check,
    if on, uses the async token store, and a provider's keys are fetched without blocking."""
    provider = provider_for(kit, token) if kit.providers else None
    if provider is not None:
        return principal_from_provider(await provider.averify(token))
    return principal_from_claims(await _token_service(kit).averify_access(token))
