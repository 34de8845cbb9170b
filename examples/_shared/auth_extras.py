"""Sign-in pieces every example shares: provider users, API keys, password reset, sessions.

Framework-free: each example calls these from its own routes and services, so the three
answer alike. Nothing here touches a database; the apps store what these decide.

- A provider's user (``Principal.method == "provider"``) is linked to a local user by
  ``(issuer, subject)`` in the app's link table, never by email or by a bare subject.
  Seen for the first time, it gets a local user with ``provider_user_values``: role
  ``user``, no password, and a placeholder email under the reserved ``.invalid`` TLD
  (``provider_email``), so a provider can never claim an existing account by the email
  it asserts.
- The local user's role is what authorizes a provider's user or an API key
  (``acting_principal``); a provider's roles and scopes grant nothing.
- Password-reset tokens go to the sender ``password_reset_sender`` picks; without one the
  reset routes answer ``503`` (``require_reset``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from backendkit.auth import (
    PASSWORD_RESET,
    ApiKey,
    AsyncTokenSender,
    InvalidOneTimeToken,
    LoggingTokenSender,
    TokenSender,
    api_key_body,
)
from backendkit.errors import (
    BadRequest,
    ConfigurationError,
    ErrorDetail,
    ServiceUnavailable,
    ValidationFailed,
)
from backendkit.fields import normalize_email
from backendkit.logging import get_logger
from backendkit.web import Principal

if TYPE_CHECKING:
    from backendkit.auth import ApiKeyService, OIDCVerifier, OneTimeTokens, TokenClaims
    from backendkit.settings import Settings
    from examples._shared.config import ExampleConfig

__all__ = [
    "API_KEY_CREATORS",
    "PASSWORD_RESET",
    "PROVIDER_EMAIL_DOMAIN",
    "PROVIDER_USER_NAME",
    "RESET_NOT_CONFIGURED",
    "RESET_REQUESTED",
    "acting_principal",
    "api_key_service",
    "invalid_reset_token",
    "keys_newest_first",
    "no_password",
    "oidc_verifier",
    "password_reset_sender",
    "password_reset_tokens",
    "provider_email",
    "provider_identity_key",
    "provider_user_name",
    "provider_user_values",
    "require_reset",
    "reset_email",
    "session_claims",
]

log = get_logger("examples.auth")

#: The name of a provider's user whose token names none.
PROVIDER_USER_NAME: Final = "Provider user"
#: The domain of provider users' placeholder emails (``.invalid`` is reserved: RFC 2606).
PROVIDER_EMAIL_DOMAIN: Final = "provider.invalid"
#: Who may create API keys: a session of this app, or a provider's access token (a key
#: never mints another key).
API_KEY_CREATORS: Final = ("bearer", "provider")
#: The message of both reset routes' ``503`` when no sender is configured.
RESET_NOT_CONFIGURED: Final = "password reset is not configured"
#: The message of every ``202`` of ``POST /api/v1/auth/password-reset``, whatever the email.
RESET_REQUESTED: Final = "If an account has this email, a password-reset token has been sent"
_DEV_ENVS = frozenset({"development", "test"})
_MAX_NAME = 100


# ---------------------------------------------------------------- provider users


def provider_email(settings: Settings, issuer: str, subject: str) -> str:
    """The placeholder email of the provider user ``(issuer, subject)``.

    ``oidc-<HMAC-SHA256 of the pair>@provider.invalid``, keyed with a key derived from the
    app's secret: nobody outside the service can compute it, so no one can take it first
    (by registering it) to block the provider user's creation. Deterministic, so two
    workers creating the same user collide on the unique email.
    """
    key = settings.derive_keys("provider-email")[0]
    pair = json.dumps([issuer, subject], separators=(",", ":")).encode()
    digest = hmac.new(key, pair, hashlib.sha256).hexdigest()[:40]
    return f"oidc-{digest}@{PROVIDER_EMAIL_DOMAIN}"


def provider_identity_key(issuer: str, subject: str) -> str:
    """The link table's key of ``(issuer, subject)``: SHA-256 (hex) of the JSON pair.

    One unique index finds the pair exactly on every database: MySQL and MariaDB compare
    the text columns without case (and trailing spaces), so an index on them would take
    subjects ``"Ab"`` and ``"ab"`` for one provider user.
    """
    pair = json.dumps([issuer, subject], separators=(",", ":")).encode()
    return hashlib.sha256(pair).hexdigest()


def provider_user_name(claims: Any) -> str:
    """``name``, else ``preferred_username``, from a provider's claims (trimmed, at most
    100 characters), else ``"Provider user"``."""
    for claim in ("name", "preferred_username"):
        value = claims.get(claim) if claims is not None else None
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_NAME].strip()
    return PROVIDER_USER_NAME


def provider_user_values(settings: Settings, principal: Principal) -> dict[str, Any]:
    """The new local user's columns for a provider's principal seen for the first time:
    role ``user``, no password (``password_hash`` ``None``), a placeholder email."""
    return {
        "email": provider_email(settings, principal.issuer or "", principal.subject or ""),
        "name": provider_user_name(principal.claims),
        "role": "user",
        "password_hash": None,
    }


def acting_principal(principal: Principal) -> Principal:
    """The principal routes authorize: for a provider's token or an API key, the roles are
    the local user's current role (``principal.user.role``, loaded by the kit's
    ``user_loader``); the app's own tokens keep the roles they were issued with."""
    if principal.method == "bearer":
        return principal
    role = getattr(principal.user, "role", None)
    roles = frozenset({role}) if isinstance(role, str) else frozenset()
    return dataclasses.replace(principal, roles=roles)


def session_claims(principal: Principal) -> TokenClaims:
    """The claims of the caller's session (``sub``, ``sid``, ``jti``, ``exp``).

    Raises:
        BadRequest: the caller did not sign in with this app (an API key, revoked with
            ``DELETE /api/v1/auth/api-keys/{id}``, or a provider's token, which only the
            provider can end): there is no session here to end.
    """
    if principal.method != "bearer":
        raise BadRequest(
            "Only a session of this API can be logged out: revoke an API key with "
            "DELETE /api/v1/auth/api-keys/{id}; sign out of an identity provider there"
        )
    claims: TokenClaims = principal.claims
    return claims


def no_password() -> ValidationFailed:
    """The ``400 VALIDATION_ERROR`` of a password change on an account that signs in with
    its identity provider and has no password."""
    return ValidationFailed(
        "This account has no password",
        details=[ErrorDetail("password", "cannot be set: the account signs in with its provider")],
    )


def keys_newest_first(keys: Iterable[ApiKey]) -> list[dict[str, Any]]:
    """The caller's keys as ``GET /api/v1/auth/api-keys`` lists them: newest first, without
    secrets (``api_key_body``)."""
    ordered = sorted(keys, key=lambda key: (key.created_at, key.id), reverse=True)
    return [api_key_body(key) for key in ordered]


# ---------------------------------------------------------------- services


def oidc_verifier(config: ExampleConfig) -> OIDCVerifier | None:
    """The verifier of ``BACKENDKIT_OIDC_ISSUER``'s access tokens for
    ``BACKENDKIT_OIDC_AUDIENCE`` (``None`` when unset). Its keys come from the issuer's
    discovery document; no provider role or scope is mapped to a local one."""
    if config.oidc_issuer is None:
        return None
    from backendkit.auth import OIDCVerifier

    return OIDCVerifier(config.oidc_issuer, audience=config.oidc_audience)


def api_key_service(config: ExampleConfig, store: Any) -> ApiKeyService:
    """The API-key service on ``store``, with the server key of the settings
    (``BACKENDKIT_API_KEY_SECRET``, else derived from ``BACKENDKIT_SECRET_KEY``); sessions
    and provider tokens may create keys, keys may not."""
    from backendkit.auth import ApiKeyService

    return ApiKeyService.from_settings(config.settings, store, creator_methods=API_KEY_CREATORS)


def password_reset_sender(config: ExampleConfig) -> TokenSender | AsyncTokenSender | None:
    """Who delivers password-reset tokens.

    The callable ``BACKENDKIT_PASSWORD_RESET_SENDER`` names (``module:callable``, called
    with no arguments) when set; else, in ``development`` and ``test``, backendkit's
    ``LoggingTokenSender`` (one ``one_time_token_issued`` log event per token); else
    ``None``, and a ``password_reset_not_configured`` warning is logged.

    Raises:
        ConfigurationError: the callable cannot be imported, or returns no sender.
    """
    spec = config.password_reset_sender
    if spec is not None:
        return _import_sender(spec)
    if config.settings.env in _DEV_ENVS:
        return LoggingTokenSender(config.settings)
    log.warning(
        "password_reset_not_configured",
        detail="set BACKENDKIT_PASSWORD_RESET_SENDER=module:callable: the password-reset "
        "routes answer 503 until then",
    )
    return None


def password_reset_tokens(
    config: ExampleConfig, store: Any, *, limiter: Any
) -> OneTimeTokens | None:
    """The one-time tokens of password resets on ``store`` (``None`` when no sender is
    configured). ``limiter`` counts requests per client address and per email; the
    rules fall back to each worker's memory while its storage is down."""
    sender = password_reset_sender(config)
    if sender is None:
        return None
    from backendkit.auth import OneTimeTokens

    return OneTimeTokens.from_settings(config.settings, store, sender=sender, limiter=limiter)


def require_reset(tokens: OneTimeTokens | None) -> OneTimeTokens:
    """The reset routes' service.

    Raises:
        ServiceUnavailable: no sender is configured (503 "password reset is not
            configured").
    """
    if tokens is None:
        raise ServiceUnavailable(RESET_NOT_CONFIGURED)
    return tokens


def reset_email(raw: str) -> tuple[str, str | None]:
    """``(to, account)`` for a reset request's ``email``: where the token would go (also
    the per-email limit's key: never blank) and the normalized email to look the account
    up by (``None`` for a malformed one, which has no account)."""
    try:
        email: str | None = normalize_email(raw)
    except ValueError:
        email = None
    return (email or raw.strip().lower() or "(blank)"), email


def invalid_reset_token() -> InvalidOneTimeToken:
    """The ``400`` of a used, expired, malformed or wrong-purpose token, with a field
    error on ``token``."""
    return InvalidOneTimeToken(details=[ErrorDetail("token", "is invalid or has expired")])


def _import_sender(spec: str) -> TokenSender | AsyncTokenSender:
    module_name, _, attribute = spec.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for name in attribute.split("."):
            target = getattr(target, name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"BACKENDKIT_PASSWORD_RESET_SENDER: cannot import {spec!r} ({exc})"
        ) from exc
    sender = target()
    if not isinstance(sender, TokenSender | AsyncTokenSender):
        raise ConfigurationError(
            f"BACKENDKIT_PASSWORD_RESET_SENDER: {spec!r} must return an object with "
            "send(email, purpose, token) or async asend(email, purpose, token)"
        )
    return sender
