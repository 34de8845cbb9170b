"""The configured token service: keys, claim policy and store; verifying and building tokens.

[`TokenService`][backendkit.auth.TokenService] is assembled from this core and the
session and revocation operations built on it; everything they share lives here.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backendkit.auth._algorithms import SUPPORTED_ALGORITHMS
from backendkit.auth._claims import RESERVED_CLAIMS, ClaimPolicy, TokenClaims, TokenPair, TokenType
from backendkit.auth._jwt import (
    ParsedToken,
    Rejected,
    decode_payload,
    parse_compact,
    sign_compact,
    verify_signature,
)
from backendkit.auth._keyring import KeyRing
from backendkit.auth._keys import JWTKey
from backendkit.auth._store import AsyncTokenStore, TokenStore
from backendkit.auth._store_url import token_store_from_url
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError, InvalidToken
from backendkit.logging import security_event

__all__ = ["DEFAULT_REQUIRED_CLAIMS", "TokenCore", "new_id", "positive"]

#: Claims a token must carry unless the service is told otherwise (``sub`` always is).
DEFAULT_REQUIRED_CLAIMS: frozenset[str] = frozenset({"exp", "iat", "jti", "type"})


def positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """``value`` as a float, if it is a finite, positive (or zero) number of seconds.

    Raises:
        ConfigurationError: anything else, naming the ``TokenService`` option.
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ConfigurationError(f"TokenService {name} must be a positive number of seconds")
    return float(value)


def new_id() -> str:
    """A fresh random token or session id (128 bits, URL-safe)."""
    return secrets.token_urlsafe(16)


class TokenCore:
    """The state every token operation reads, and the steps they share.

    Built by [`TokenService`][backendkit.auth.TokenService]'s constructor (see its
    arguments); the operations themselves live in the classes built on this one.
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
        self._access_ttl = positive("access_ttl", access_ttl)
        self._refresh_ttl = positive("refresh_ttl", refresh_ttl)
        self._max_session = (
            None
            if max_session_lifetime is None
            else positive("max_session_lifetime", max_session_lifetime)
        )
        self._grace = positive("refresh_grace", refresh_grace, allow_zero=True)
        if self._grace > 300:
            raise ConfigurationError("TokenService refresh_grace must be at most 300 seconds")
        leeway = positive("leeway", leeway, allow_zero=True)
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
        #: Told of each token event as ``(event, detail)``: ``("issued", "access" or
        #: "session")``, ``("refreshed", "rotated" or "grace")``, ``("reuse_detected",
        #: "refresh")`` and ``("rejected", reason)``; token metrics count them.
        self.on_event: Callable[[str, str], None] | None = None

    def _tell(self, event: str, detail: str) -> None:
        observer = self.on_event
        if observer is not None:
            observer(event, detail)

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
        self._tell("rejected", reason)
        return InvalidToken()

    def _decode(
        self, token: str | bytes, expected: TokenType | None, *, check_expiry: bool = True
    ) -> TokenClaims:
        try:
            parsed = parse_compact(token, max_bytes=self._max_bytes, algorithms=self._algorithms)
            verify_signature(parsed, self._key_for(parsed))
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

    # -- building tokens ---------------------------------------------------------------------

    def _base_claims(
        self, sub: str, token_type: TokenType, iat: int, exp: int, extra: Mapping[str, Any]
    ) -> dict[str, Any]:
        payload: dict[str, Any] = dict(extra)
        payload.update(sub=sub, type=token_type, jti=new_id(), iat=iat, exp=exp)
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

    def _longest_lifetime(self) -> float:
        longest = max(self._access_ttl, self._refresh_ttl, self._max_session or 0.0)
        return longest + self._policy.leeway

    # -- store access ------------------------------------------------------------------------

    def _sync(self) -> TokenStore:
        if self._sync_store is None:
            raise ConfigurationError("this token store is async-only; use the a-prefixed methods")
        return self._sync_store

    def _async(self) -> AsyncTokenStore:
        if self._async_store is None:
            raise ConfigurationError("this token store is sync-only; use the sync methods")
        return self._async_store
