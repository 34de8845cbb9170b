"""`TokenService`: issue, verify, rotate and revoke access and refresh JWTs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind
from backendkit.auth._keys import JWTKey
from backendkit.auth._store import AsyncTokenStore, TokenStore
from backendkit.auth._token_revocation import RevocableTokens
from backendkit.auth._token_sessions import SessionTokens
from backendkit.clock import Clock, system_clock
from backendkit.logging import get_logger

if TYPE_CHECKING:
    from backendkit.settings import Settings

_log = get_logger(__name__)

__all__ = ["TokenService"]


def _warn_unset_issuer_audience(service: TokenService) -> None:
    # Checked on the built service: keyword arguments to from_settings win over settings.
    missing = [
        name
        for name, value in (("audience", service.audience), ("issuer", service.issuer))
        if not value
    ]
    if missing:
        _log.warning(
            "jwt_issuer_audience_unset",
            missing=missing,
            hint="set BACKENDKIT_JWT_ISSUER and BACKENDKIT_JWT_AUDIENCE so that tokens "
            "issued by or for another service are refused",
        )


# The development key warning is logged once per process, however many services are built.
_dev_key_warned = False


def _development_key(settings: Settings) -> bytes:
    """The public development signing key, distinct per (issuer, audience); warns once."""
    global _dev_key_warned
    purpose = "jwt"
    if settings.jwt_issuer or settings.jwt_audience:
        # Still public (the inputs are), but two apps naming themselves differently no
        # longer accept each other's tokens by accident.
        purpose = f"jwt-development:{settings.jwt_issuer or ''}|{settings.jwt_audience or ''}"
    if not _dev_key_warned:
        _dev_key_warned = True
        _log.warning(
            "development_signing_key",
            env=settings.env,
            detail="neither BACKENDKIT_JWT_SECRET nor BACKENDKIT_SECRET_KEY is set: tokens "
            "are signed with a PUBLICLY KNOWN development key and can be forged by anyone. "
            "Never run like this where real users log in.",
        )
    return settings.derive_keys(purpose)[0]


class TokenService(RevocableTokens, SessionTokens):
    """Issues and verifies access and refresh JWTs; rotates, revokes, publishes keys.

    Safe by construction: the accepted algorithms are fixed here, each key verifies only
    with its own algorithm, a token's ``kid`` is looked up only in ``keys``, every segment
    must be canonical base64url, tokens over ``max_token_bytes`` are refused unread, time
    claims are checked against ``clock``, and ``iss``/``aud`` are compared exactly. Every
    verification failure raises the same [`InvalidToken`][backendkit.errors.InvalidToken]
    (401); the reason goes to the logs as a ``token_rejected`` security event, and a token
    is never logged.

    Args:
        keys: one key, a list (newest first; the first signs) or a
            [`KeyRing`][backendkit.auth.KeyRing].
        algorithms: the accepted algorithms; by default those of the keys. Every key's
            algorithm must be in it.
        issuer: written into ``iss`` and required, exactly, on verification.
        audience: written into ``aud`` and required, exactly, on verification. When
            unset, tokens that carry an ``aud`` are refused.
        access_ttl: access-token lifetime in seconds (15 minutes).
        refresh_ttl: refresh-token lifetime in seconds (14 days).
        max_session_lifetime: cap on a session however often it is refreshed (30 days);
            ``None`` for no cap.
        refresh_grace: seconds in which a second refresh of the same token receives the
            same new pair instead of tripping reuse detection (0 disables it).
        leeway: seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
        max_token_bytes: longer tokens are refused before decoding (8 KiB).
        required_claims: claims that must be present (``exp``, ``iat``, ``jti``, ``type``
            by default; ``nbf`` may be added). ``sub`` is always required, and refresh
            tokens always need all of them.
        store: a [`TokenStore`][backendkit.auth.TokenStore] and/or
            [`AsyncTokenStore`][backendkit.auth.AsyncTokenStore], or a URL (``memory://``,
            ``redis://...``) for [`token_store_from_url`][backendkit.auth.token_store_from_url].
        check_revocation: whether ``verify_access`` consults the store by default
            (stateless verification otherwise).
        clock: time source for every time claim and store record.

    Raises:
        ConfigurationError: an invalid option or key set.

    Example:
        >>> from backendkit.testing import FakeClock
        >>> tokens = TokenService(JWTKey.generate("HS256"), clock=FakeClock())
        >>> pair = tokens.issue_pair("user-42", claims={"roles": ["admin"]})
        >>> claims = tokens.verify_access(pair.access_token)
        >>> claims.sub, claims["roles"] == ["admin"]
        ('user-42', True)
    """

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: TokenStore | AsyncTokenStore | str | None = None,
        clock: Clock = system_clock,
        **options: Any,
    ) -> TokenService:
        """Build the service from [`Settings`][backendkit.settings.Settings].

        Keys: ``jwt_secret`` as one HS256 key when set, otherwise one HS256 key derived
        from each ``secret_key`` (the first signs, all verify). With neither (development
        and test only: production requires ``secret_key``), tokens are signed with a
        **development key** derived from a constant published in this source, so anyone can
        forge them; ``jwt_issuer`` and ``jwt_audience`` are mixed into it, so that two apps
        that name themselves differently at least get different keys (and ``kid``), and one
        ``development_signing_key`` warning is logged per process. The store: a
        [`RedisTokenStore`][backendkit.auth.RedisTokenStore] when ``redis_url`` is set,
        else memory. ``refresh_grace`` defaults to ``refresh_grace_seconds``; ``issuer``,
        ``audience``, ``access_ttl``, ``refresh_ttl``, ``max_session_lifetime`` and ``leeway``
        to the ``jwt_*`` settings. Other keyword arguments go to the constructor and win.

        In production, a service without an issuer or an audience logs one
        ``jwt_issuer_audience_unset`` warning: it would accept any token signed with its key,
        whoever issued it and whichever service it was meant for.

        Raises:
            ConfigurationError: ``jwt_secret`` shorter than 32 bytes, or invalid options.
        """
        if settings.jwt_secret is not None:
            keys = [JWTKey.hmac(settings.jwt_secret.get_secret_value())]
        elif settings.secret_key:
            keys = [JWTKey.hmac(key) for key in settings.derive_keys("jwt")]
        else:
            keys = [JWTKey.hmac(_development_key(settings))]
        if store is None:
            if settings.redis_url:
                # The scheme first: a wrong URL is not reported as a missing redis extra.
                storage_kind(settings.redis_url, refusal=SETTINGS_REFUSAL, memory=False)
                from backendkit.auth._redis_store import RedisTokenStore
                from backendkit.redis import RedisConfig

                store = RedisTokenStore(RedisConfig.from_settings(settings), clock=clock)
            else:
                store = "memory://"
        options.setdefault("refresh_grace", settings.refresh_grace_seconds)
        options.setdefault("issuer", settings.jwt_issuer)
        options.setdefault("audience", settings.jwt_audience)
        options.setdefault("access_ttl", settings.jwt_access_ttl)
        options.setdefault("refresh_ttl", settings.jwt_refresh_ttl)
        options.setdefault("max_session_lifetime", settings.jwt_max_session_lifetime)
        options.setdefault("leeway", settings.jwt_leeway)
        service = cls(keys, store=store, clock=clock, **options)
        if settings.is_production:
            _warn_unset_issuer_audience(service)
        return service
