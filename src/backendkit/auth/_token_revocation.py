"""Revoking tokens, sessions and users, and checking that the token store is up."""

from __future__ import annotations

from backendkit.auth._claims import TokenClaims
from backendkit.auth._token_core import TokenCore

__all__ = ["RevocableTokens"]


class RevocableTokens(TokenCore):
    """Logout and revocation, and the store availability check before a login.

    One of the classes [`TokenService`][backendkit.auth.TokenService] is built from.
    """

    # -- revocation --------------------------------------------------------------------------

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
