"""Issuing tokens and starting sessions; refresh rotation with reuse detection."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backendkit.auth._claims import TokenClaims, TokenPair
from backendkit.auth._jwt import Rejected, sign_compact
from backendkit.auth._store import NewSession, RotationRequest, RotationResult
from backendkit.auth._token_core import TokenCore, new_id, positive
from backendkit.errors import InvalidToken
from backendkit.logging import security_event

__all__ = ["SessionTokens"]


@dataclass(frozen=True, slots=True)
class _RefreshPlan:
    old: TokenClaims
    pair: TokenPair
    request: RotationRequest


class SessionTokens(TokenCore):
    """Issuing: stand-alone access tokens and sessions; refreshing: rotation of a session.

    One of the classes [`TokenService`][backendkit.auth.TokenService] is built from.
    """

    # -- issuing -----------------------------------------------------------------------------

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
        lifetime = self._access_ttl if ttl is None else positive("ttl", ttl)
        iat = int(self._clock.now())
        payload = self._base_claims(sub, "access", iat, int(iat + lifetime), extra)
        token = sign_compact(payload, self._ring.signing_key)
        self._tell("issued", "access")
        return token

    def _begin_session(
        self, sub: str, claims: Mapping[str, Any] | None
    ) -> tuple[TokenPair, NewSession]:
        extra = self._custom(sub, claims)
        now = self._clock.now()
        sid = new_id()
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
        self._tell("issued", "session")
        return pair

    async def aissue_pair(self, sub: str, *, claims: Mapping[str, Any] | None = None) -> TokenPair:
        """Async twin of [`issue_pair`][backendkit.auth.TokenService.issue_pair].

        Raises:
            ValueError: ``sub`` is empty, or ``claims`` uses a reserved name.
            BackendUnavailable: the Redis store cannot be reached (503).
        """
        pair, record = self._begin_session(sub, claims)
        await self._async().acreate_session(record)
        self._tell("issued", "session")
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
            self._tell("refreshed", "rotated")
            return plan.pair
        if result.status == "grace" and result.pair is not None:
            self._tell("refreshed", "grace")
            return TokenPair._load(json.loads(result.pair))
        if result.status == "reuse":
            security_event("refresh_token_reuse", user_id=plan.old.sub, family=plan.old.sid)
            self._tell("reuse_detected", "refresh")
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
