"""`TokenService`: issue, verify, rotate and revoke access and refresh JWTs."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind
from backendkit.auth._algorithms import SUPPORTED_ALGORITHMS
from backendkit.auth._claims import RESERVED_CLAIMS, ClaimPolicy, TokenClaims, TokenPair, TokenType
from backendkit.auth._jwt import (
    ParsedToken,
    Rejected,
    decode_payload,
    parse_compact,
    sign_compact,
)
from backendkit.auth._jwt import verify_signature as _verify_signature
from backendkit.auth._keyring import KeyRing
from backendkit.auth._keys import JWTKey
from backendkit.auth._store import (
    AsyncTokenStore,
    NewSession,
    RotationRequest,
    RotationResult,
    TokenStore,
)
from backendkit.auth._store_url import token_store_from_url
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError, InvalidToken
from backendkit.logging import get_logger, security_event

if TYPE_CHECKING:
    from backendkit.settings import Settings

_log = get_logger(__name__)

__all__ = ["DEFAULT_REQUIRED_CLAIMS", "TokenService"]

#: Claims a token must carry unless the service is told otherwise (``sub`` always is).
DEFAULT_REQUIRED_CLAIMS: frozenset[str] = frozenset({"exp", "iat", "jti", "type"})


def _positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"TokenService {name} must be a positive number of seconds")
    return float(value)


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


def _new_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class _RefreshPlan:
    old: TokenClaims
    pair: TokenPair
    request: RotationRequest


class TokenService:
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

    def __init__(
        self,
        keys: KeyRing | JWTKey | Sequence[JWTKey],
        *,
        algorithms: Iterable[str] | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        access_ttl: float = 900.0,
        refresh_ttl: float = 1_209_600.0,
        max_session_lifetime: float | None = 2_592_000.0,
        refresh_grace: float = 5.0,
        leeway: float = 0.0,
        max_token_bytes: int = 8192,
        required_claims: Iterable[str] = DEFAULT_REQUIRED_CLAIMS,
        store: TokenStore | AsyncTokenStore | str = "memory://",
        check_revocation: bool = False,
        clock: Clock = system_clock,
    ) -> None:
        self._ring = KeyRing.of(keys)
        self._algorithms = self._allowlist(algorithms)
        self._access_ttl = _positive("access_ttl", access_ttl)
        self._refresh_ttl = _positive("refresh_ttl", refresh_ttl)
        self._max_session = (
            None
            if max_session_lifetime is None
            else _positive("max_session_lifetime", max_session_lifetime)
        )
        self._grace = _positive("refresh_grace", refresh_grace, allow_zero=True)
        if self._grace > 300:
            raise ConfigurationError("TokenService refresh_grace must be at most 300 seconds")
        leeway = _positive("leeway", leeway, allow_zero=True)
        if not isinstance(max_token_bytes, int) or max_token_bytes < 256:
            raise ConfigurationError("TokenService max_token_bytes must be an integer >= 256")
        self._max_bytes = max_token_bytes
        for name, value in (("issuer", issuer), ("audience", audience)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigurationError(f"TokenService {name} must be a non-empty string")
        try:
            required = ClaimPolicy.check_required(frozenset(required_claims))
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self._policy = ClaimPolicy(issuer, audience, leeway, required)
        resolved = token_store_from_url(store, clock=clock) if isinstance(store, str) else store
        self._store = resolved
        self._sync_store = resolved if isinstance(resolved, TokenStore) else None
        self._async_store = resolved if isinstance(resolved, AsyncTokenStore) else None
        if self._sync_store is None and self._async_store is None:
            raise ConfigurationError("store must implement TokenStore or AsyncTokenStore")
        self._check_revocation = bool(check_revocation)
        self._clock = clock

    def _allowlist(self, algorithms: Iterable[str] | None) -> frozenset[str]:
        allowed = self._ring.algorithms if algorithms is None else frozenset(algorithms)
        unknown = allowed - frozenset(SUPPORTED_ALGORITHMS)
        if unknown:
            raise ConfigurationError(
                f"unsupported JWT algorithms {sorted(unknown)}; "
                f"choose from {', '.join(SUPPORTED_ALGORITHMS)}"
            )
        outside = self._ring.algorithms - allowed
        if outside:
            raise ConfigurationError(
                f"keys use algorithms outside the allowlist: {sorted(outside)}"
            )
        return allowed

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

    # -- properties --------------------------------------------------------------------------

    @property
    def key_ring(self) -> KeyRing:
        """The keys: the active signing key and the older verification keys."""
        return self._ring

    @property
    def algorithms(self) -> frozenset[str]:
        """The accepted algorithms, fixed at construction."""
        return self._algorithms

    @property
    def issuer(self) -> str | None:
        """The ``iss`` written and required, if configured."""
        return self._policy.issuer

    @property
    def audience(self) -> str | None:
        """The ``aud`` written and required, if configured."""
        return self._policy.audience

    @property
    def clock(self) -> Clock:
        """The clock every time claim is read from."""
        return self._clock

    @property
    def store(self) -> TokenStore | AsyncTokenStore:
        """The token store."""
        return self._store

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public keys as a JWKS document, for ``/.well-known/jwks.json``."""
        return self._ring.jwks()

    # -- verification ------------------------------------------------------------------------

    def _reject(self, reason: str, expected: TokenType | None) -> InvalidToken:
        # Field names avoid "token" and "session": the log redactor masks those.
        security_event("token_rejected", reason=reason, expected=expected or "any")
        return InvalidToken()

    def _decode(
        self, token: str | bytes, expected: TokenType | None, *, check_expiry: bool = True
    ) -> TokenClaims:
        try:
            parsed = parse_compact(token, max_bytes=self._max_bytes, algorithms=self._algorithms)
            _verify_signature(parsed, self._key_for(parsed))
            payload = decode_payload(parsed)
            return self._policy.check(
                payload, now=self._clock.now(), expected=expected, check_expiry=check_expiry
            )
        except Rejected as exc:
            raise self._reject(exc.reason, expected) from None

    def _key_for(self, parsed: ParsedToken) -> JWTKey:
        kid = parsed.header.get("kid")
        if kid is None:
            # Tokens without a kid (e.g. from plain pyjwt) are tried with the signing key only.
            return self._ring.signing_key
        key = self._ring.get(kid)
        if key is None:
            raise Rejected("unknown_kid")
        return key

    def _wants_check(self, check_revoked: bool | None) -> bool:
        return self._check_revocation if check_revoked is None else check_revoked

    def verify_access(
        self, token: str | bytes, *, check_revoked: bool | None = None
    ) -> TokenClaims:
        """Verify an access token and return its claims.

        Stateless (signature and claims only) unless revocation checking is on for the
        service or ``check_revoked=True``; then the store is asked too, and an unreachable
        Redis raises [`BackendUnavailable`][backendkit.errors.BackendUnavailable] (503)
        rather than accepting a token it could not check.

        Raises:
            InvalidToken: the token is not a valid access token (or is revoked).
        """
        claims = self._decode(token, "access")
        if self._wants_check(check_revoked):
            reason = self._sync().check(
                claims.sub, claims.jti, claims.sid, claims.iat, self._clock.now()
            )
            if reason is not None:
                raise self._reject(reason, "access")
        return claims

    async def averify_access(
        self, token: str | bytes, *, check_revoked: bool | None = None
    ) -> TokenClaims:
        """Async twin of [`verify_access`][backendkit.auth.TokenService.verify_access].

        Raises:
            InvalidToken: the token is not a valid access token (or is revoked).
        """
        claims = self._decode(token, "access")
        if self._wants_check(check_revoked):
            reason = await self._async().acheck(
                claims.sub, claims.jti, claims.sid, claims.iat, self._clock.now()
            )
            if reason is not None:
                raise self._reject(reason, "access")
        return claims

    def verify_refresh(self, token: str | bytes) -> TokenClaims:
        """Verify a refresh token's signature and claims, without using or rotating it.

        Raises:
            InvalidToken: the token is not a valid refresh token.
        """
        return self._decode(token, "refresh")

    # -- issuing -----------------------------------------------------------------------------

    def _base_claims(
        self, sub: str, token_type: TokenType, iat: int, exp: int, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = dict(extra)
        payload.update(sub=sub, type=token_type, jti=_new_id(), iat=iat, exp=exp)
        if self._policy.issuer is not None:
            payload["iss"] = self._policy.issuer
        if self._policy.audience is not None:
            payload["aud"] = self._policy.audience
        return payload

    @staticmethod
    def _custom(sub: str, claims: Mapping[str, Any] | None) -> dict[str, Any]:
        if not isinstance(sub, str) or not sub or len(sub) > 256:
            raise ValueError("sub must be a non-empty string of at most 256 characters")
        extra = dict(claims or {})
        clash = RESERVED_CLAIMS.intersection(extra)
        if clash:
            raise ValueError(f"custom claims may not set reserved claims: {sorted(clash)}")
        return extra

    def issue_access(
        self, sub: str, *, claims: Mapping[str, Any] | None = None, ttl: float | None = None
    ) -> str:
        """A stand-alone access token, outside any session (no store involved).

        Prefer [`issue_pair`][backendkit.auth.TokenService.issue_pair] for logins: tokens
        issued here have no ``sid``, so only ``revoke`` (by ``jti``) and ``revoke_user``
        reach them, and only when revocation is checked.

        Raises:
            ValueError: ``sub`` is empty, or ``claims`` uses a reserved name.
        """
        extra = self._custom(sub, claims)
        lifetime = self._access_ttl if ttl is None else _positive("ttl", ttl)
        iat = int(self._clock.now())
        payload = self._base_claims(sub, "access", iat, int(iat + lifetime), extra)
        return sign_compact(payload, self._ring.signing_key)

    def _build_pair(
        self, sub: str, sid: str, auth_time: int, extra: Mapping[str, Any], now: float
    ) -> tuple[TokenPair, str, int]:
        iat = int(now)
        end = math.inf if self._max_session is None else auth_time + self._max_session
        access_exp = int(min(iat + self._access_ttl, end))
        refresh_exp = int(min(iat + self._refresh_ttl, end))
        if refresh_exp <= now:
            raise Rejected("session_expired")
        key = self._ring.signing_key
        access = self._base_claims(sub, "access", iat, access_exp, extra)
        refresh = self._base_claims(sub, "refresh", iat, refresh_exp, extra)
        for payload in (access, refresh):
            payload.update(sid=sid, auth_time=auth_time)
        pair = TokenPair(
            access_token=sign_compact(access, key),
            refresh_token=sign_compact(refresh, key),
            access_expires_at=access_exp,
            refresh_expires_at=refresh_exp,
            session_id=sid,
            expires_in=access_exp - iat,
        )
        return pair, refresh["jti"], refresh_exp

    def _begin_session(
        self, sub: str, claims: Mapping[str, Any] | None
    ) -> tuple[TokenPair, NewSession]:
        extra = self._custom(sub, claims)
        now = self._clock.now()
        sid = _new_id()
        pair, jti, refresh_exp = self._build_pair(sub, sid, int(now), extra, now)
        record = NewSession(sub, sid, jti, now, refresh_exp + self._policy.leeway)
        return pair, record

    def issue_pair(self, sub: str, *, claims: Mapping[str, Any] | None = None) -> TokenPair:
        """Log in: start a session and return its first access and refresh tokens.

        ``claims`` (roles, scopes, ...) go into both tokens and carry over on refresh.

        Raises:
            ValueError: ``sub`` is empty, or ``claims`` uses a reserved name.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        pair, record = self._begin_session(sub, claims)
        self._sync().create_session(record)
        return pair

    async def aissue_pair(self, sub: str, *, claims: Mapping[str, Any] | None = None) -> TokenPair:
        """Async twin of [`issue_pair`][backendkit.auth.TokenService.issue_pair].

        Raises:
            ValueError: ``sub`` is empty, or ``claims`` uses a reserved name.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        pair, record = self._begin_session(sub, claims)
        await self._async().acreate_session(record)
        return pair

    # -- refresh rotation --------------------------------------------------------------------

    def _begin_refresh(self, token: str | bytes, claims: Mapping[str, Any] | None) -> _RefreshPlan:
        old = self._decode(token, "refresh")
        # _decode guarantees jti, iat, exp and sid on a refresh token.
        assert old.jti is not None
        assert old.sid is not None
        extra = dict(old.extra) if claims is None else self._custom(old.sub, claims)
        now = self._clock.now()
        auth_time = int(old.auth_time if old.auth_time is not None else (old.iat or now))
        try:
            pair, new_jti, refresh_exp = self._build_pair(old.sub, old.sid, auth_time, extra, now)
        except Rejected as exc:
            raise self._reject(exc.reason, "refresh") from None
        request = RotationRequest(
            sub=old.sub,
            sid=old.sid,
            old_jti=old.jti,
            new_jti=new_jti,
            pair=json.dumps(pair._dump(), separators=(",", ":")),
            now=now,
            grace=self._grace,
            expires_at=refresh_exp + self._policy.leeway,
        )
        return _RefreshPlan(old, pair, request)

    def _finish_refresh(self, plan: _RefreshPlan, result: RotationResult) -> TokenPair:
        if result.status == "rotated":
            return plan.pair
        if result.status == "grace" and result.pair is not None:
            return TokenPair._load(json.loads(result.pair))
        if result.status == "reuse":
            security_event("refresh_token_reuse", user_id=plan.old.sub, family=plan.old.sid)
            raise InvalidToken()
        reason = "session_revoked" if result.status == "revoked" else "session_unknown"
        raise self._reject(reason, "refresh")

    def refresh(self, token: str | bytes, *, claims: Mapping[str, Any] | None = None) -> TokenPair:
        """Use a refresh token: return a new pair and retire the presented token.

        Presenting a retired token again revokes the whole session (reuse detection):
        both the attacker and the victim must log in again. Within ``refresh_grace``
        seconds of a rotation, the same token returns the same new pair (parallel tabs).
        Custom claims carry over unless ``claims`` replaces them.

        Raises:
            InvalidToken: invalid, expired, retired (reuse) or revoked refresh token.
            BackendUnavailable: the Redis store cannot be reached (503): never accepted
                unchecked.
        """
        plan = self._begin_refresh(token, claims)
        return self._finish_refresh(plan, self._sync().rotate(plan.request))

    async def arefresh(
        self, token: str | bytes, *, claims: Mapping[str, Any] | None = None
    ) -> TokenPair:
        """Async twin of [`refresh`][backendkit.auth.TokenService.refresh].

        Raises:
            InvalidToken: invalid, expired, retired (reuse) or revoked refresh token.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        plan = self._begin_refresh(token, claims)
        return self._finish_refresh(plan, await self._async().arotate(plan.request))

    # -- revocation --------------------------------------------------------------------------

    def _longest_lifetime(self) -> float:
        longest = max(self._access_ttl, self._refresh_ttl, self._max_session or 0.0)
        return longest + self._policy.leeway

    def _revocation(self, token: str | bytes) -> tuple[TokenClaims, float, float]:
        # An expired token may still name a live session (logout after a long idle).
        claims = self._decode(token, None, check_expiry=False)
        now = self._clock.now()
        until = (
            claims.exp + self._policy.leeway
            if claims.exp is not None
            else now + self._longest_lifetime()
        )
        return claims, now, until

    def revoke(self, token: str | bytes) -> None:
        """Log out with this token: deny its ``jti`` and end its session (``sid``).

        Accepts an access or a refresh token, even an expired one (its session may still
        be alive); the signature and other claims must still be valid.

        Raises:
            InvalidToken: the token is not one of ours.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        claims, now, until = self._revocation(token)
        store = self._sync()
        if claims.jti is not None:
            store.revoke_token(claims.sub, claims.jti, until, now)
        if claims.sid is not None:
            store.revoke_session(claims.sub, claims.sid, now)

    async def arevoke(self, token: str | bytes) -> None:
        """Async twin of [`revoke`][backendkit.auth.TokenService.revoke].

        Raises:
            InvalidToken: the token is not one of ours.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        claims, now, until = self._revocation(token)
        store = self._async()
        if claims.jti is not None:
            await store.arevoke_token(claims.sub, claims.jti, until, now)
        if claims.sid is not None:
            await store.arevoke_session(claims.sub, claims.sid, now)

    def revoke_jti(self, sub: str, jti: str, *, expires_at: float | None = None) -> None:
        """Deny one token by its ``jti`` (``sub`` is its subject) until ``expires_at``.

        Without ``expires_at`` the denial lasts the longest token lifetime.
        """
        now = self._clock.now()
        until = now + self._longest_lifetime() if expires_at is None else expires_at
        self._sync().revoke_token(sub, jti, until, now)

    async def arevoke_jti(self, sub: str, jti: str, *, expires_at: float | None = None) -> None:
        """Async twin of [`revoke_jti`][backendkit.auth.TokenService.revoke_jti]."""
        now = self._clock.now()
        until = now + self._longest_lifetime() if expires_at is None else expires_at
        await self._async().arevoke_token(sub, jti, until, now)

    def revoke_session(self, sub: str, session_id: str) -> None:
        """End one session of ``sub``: its refresh tokens stop working at once."""
        self._sync().revoke_session(sub, session_id, self._clock.now())

    async def arevoke_session(self, sub: str, session_id: str) -> None:
        """Async twin of [`revoke_session`][backendkit.auth.TokenService.revoke_session]."""
        await self._async().arevoke_session(sub, session_id, self._clock.now())

    def revoke_user(self, sub: str) -> None:
        """Log ``sub`` out everywhere (after a password change, say).

        Every session of the user is revoked; when revocation is checked, every access
        token issued before now is refused too. Sessions started afterwards are unaffected.
        """
        now = self._clock.now()
        self._sync().revoke_user(sub, now, now + self._longest_lifetime())

    async def arevoke_user(self, sub: str) -> None:
        """Async twin of [`revoke_user`][backendkit.auth.TokenService.revoke_user]."""
        now = self._clock.now()
        await self._async().arevoke_user(sub, now, now + self._longest_lifetime())

    # -- store availability ------------------------------------------------------------------

    def ensure_available(self) -> None:
        """Raise a 503 now if the token store cannot be reached; do nothing otherwise.

        Call it at a login *before* checking the password. Issuing the tokens needs the
        store, so during an outage a right password ends in a 503 while a wrong one is a
        401: the difference tells an attacker which guess was right. Checked first, both
        get the same 503. A store without a ``ping`` method (the in-memory store, a custom
        store) is taken to be available.

        Raises:
            BackendUnavailable: the store (Redis) is down, hung or its breaker is open.
        """
        ping = getattr(self._sync(), "ping", None)
        if ping is not None:
            ping()

    async def aensure_available(self) -> None:
        """Async twin of [`ensure_available`][backendkit.auth.TokenService.ensure_available].

        Raises:
            BackendUnavailable: the store (Redis) is down, hung or its breaker is open.
        """
        aping = getattr(self._async(), "aping", None)
        if aping is not None:
            await aping()

    # -- store access ------------------------------------------------------------------------

    def _sync(self) -> TokenStore:
        if self._sync_store is None:
            raise ConfigurationError("this token store is async-only; use the a-prefixed methods")
        return self._sync_store

    def _async(self) -> AsyncTokenStore:
        if self._async_store is None:
            raise ConfigurationError("this token store is sync-only; use the sync methods")
        return self._async_store
