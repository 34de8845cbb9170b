"""Credentials from a request: Bearer header, cookie transport with CSRF, roles and scopes."""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from backendkit.errors import ConfigurationError, Forbidden, Unauthenticated
from backendkit.web._kit import CookieAuth, WebKit
from backendkit.web._principal import Principal

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
]

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
    )


def _strings(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(item) for item in value)
    return frozenset()


def _token_service(kit: WebKit) -> Any:
    if kit.tokens is None:
        raise ConfigurationError("authentication needs a TokenService: WebKit(tokens=...)")
    return kit.tokens


def authenticate(kit: WebKit, token: str) -> Principal:
    """Verify an access token with ``kit.tokens`` (sync twin).

    Raises:
        InvalidToken: the token does not verify (401).
        BackendUnavailable: revocation checking is on and the store is down (503).
        ConfigurationError: the kit has no token service.
    """
    return principal_from_claims(_token_service(kit).verify_access(token))


async def aauthenticate(kit: WebKit, token: str) -> Principal:
    """Verify an access token with ``kit.tokens`` (async twin: the revocation check, if
    on, uses the async token store)."""
    return principal_from_claims(await _token_service(kit).averify_access(token))
