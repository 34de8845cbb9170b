"""Claims: what a verified token says, what a login returns, and the checks between.

Time claims are checked here against the service's injected
[`Clock`][backendkit.clock.Clock] (pyjwt's own checks read the system clock, which tests
cannot move). A time claim is a JSON number (not a boolean) from 0 to ``MAX_TIME`` (the
end of year 9999); anything else (a huge or negative integer, NaN, an infinity, a string,
a list) is a ``bad_claim``, never a crash.
``iss`` and ``aud`` are compared exactly: no prefix, substring or pattern matching.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from backendkit.auth._jwt import Rejected

__all__ = ["RESERVED_CLAIMS", "ClaimPolicy", "TokenClaims", "TokenPair", "TokenType"]

#: ``"access"`` or ``"refresh"``: the value of the ``type`` claim.
TokenType = Literal["access", "refresh"]

#: Claims the service sets itself; custom claims may not use these names.
RESERVED_CLAIMS: frozenset[str] = frozenset(
    {"sub", "exp", "iat", "nbf", "jti", "iss", "aud", "type", "sid", "auth_time"}
)
# Claims a service may require (or not); sub is always required.
_REQUIRABLE = frozenset({"exp", "iat", "jti", "type", "nbf"})
_MAX_ID_LENGTH = 256
#: The largest time claim accepted: 9999-12-31T23:59:59Z, the last second a ``datetime``
#: holds. Time claims (``exp``, ``iat``, ``nbf``, ``auth_time``) are numbers from 0 to this.
MAX_TIME = 253_402_300_799


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified content of a token.

    Attributes:
        sub: the subject (user id).
        type: ``"access"`` or ``"refresh"``.
        jti: the token's unique id (used for revocation).
        iat: issued-at, seconds since the epoch.
        exp: expiry, seconds since the epoch.
        nbf: not-before, when present.
        iss: issuer, when present.
        aud: audience (a string or a list of strings), when present.
        sid: session id: every token of one login (and its refreshes) shares it.
        auth_time: when the session's login happened (for "recent login required" checks).
        extra: custom claims (roles, scopes, ...), read-only.
    """

    sub: str
    type: TokenType
    jti: str | None
    iat: int | float | None
    exp: int | float | None
    nbf: int | float | None = None
    iss: str | None = None
    aud: str | list[str] | None = None
    sid: str | None = None
    auth_time: int | float | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, name: str) -> Any:
        """A claim by name, registered or custom (``claims["roles"]``).

        Raises:
            KeyError: the token has no such claim.
        """
        if name in RESERVED_CLAIMS:
            value = getattr(self, name)
            if value is None:
                raise KeyError(name)
            return value
        return self.extra[name]

    def get(self, name: str, default: Any = None) -> Any:
        """A claim by name, or ``default`` when the token has none."""
        try:
            return self[name]
        except KeyError:
            return default


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token and a refresh token, as returned by login and refresh.

    Attributes:
        access_token: the short-lived bearer token.
        refresh_token: the long-lived, single-use token that buys the next pair.
        access_expires_at: the access token's ``exp``.
        refresh_expires_at: the refresh token's ``exp``.
        session_id: the session (refresh family) both tokens belong to.
        expires_in: the access token's lifetime in seconds at issue.
        token_type: always ``"Bearer"``.
    """

    access_token: str
    refresh_token: str
    access_expires_at: int
    refresh_expires_at: int
    session_id: str
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth 2.0 token type, not a secret

    def __repr__(self) -> str:
        # Tokens are credentials: keep them out of reprs, tracebacks and logs.
        return (
            f"TokenPair(session_id={self.session_id!r}, "
            f"access_expires_at={self.access_expires_at}, "
            f"refresh_expires_at={self.refresh_expires_at})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form (camelCase), ready to put in a success envelope.

        Example:
            >>> pair = TokenPair("a.b.c", "d.e.f", 1900, 9000, "s1", 900)
            >>> pair.to_dict()["tokenType"], pair.to_dict()["expiresIn"]
            ('Bearer', 900)
        """
        return {
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "tokenType": self.token_type,
            "expiresIn": self.expires_in,
        }

    def _dump(self) -> dict[str, Any]:
        return {
            "a": self.access_token,
            "r": self.refresh_token,
            "ae": self.access_expires_at,
            "re": self.refresh_expires_at,
            "s": self.session_id,
            "e": self.expires_in,
        }

    @classmethod
    def _load(cls, data: Mapping[str, Any]) -> TokenPair:
        return cls(data["a"], data["r"], data["ae"], data["re"], data["s"], data["e"])


def _number(payload: Mapping[str, Any], name: str) -> int | float | None:
    value = payload.get(name)
    if value is None:
        return None
    # bool is an int subclass; NaN and infinities compare in surprising ways. The range is
    # checked on the value itself: math.isfinite(10**400) raises OverflowError, and times
    # outside it break whatever turns them into dates or TTLs later.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("bad_claim")
    if isinstance(value, float) and not math.isfinite(value):
        raise Rejected("bad_claim")
    if not 0 <= value <= MAX_TIME:
        raise Rejected("bad_claim")
    return value


def _identifier(payload: Mapping[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH:
        raise Rejected("bad_claim")
    return value


@dataclass(frozen=True, slots=True)
class ClaimPolicy:
    """What a service requires of a token's claims (internal to ``TokenService``)."""

    issuer: str | None
    audience: str | None
    leeway: float
    required: frozenset[str]

    @staticmethod
    def check_required(required: frozenset[str]) -> frozenset[str]:
        unknown = required - _REQUIRABLE
        if unknown:
            raise ValueError(f"cannot require {sorted(unknown)}; choose from {sorted(_REQUIRABLE)}")
        return required

    def check(
        self,
        payload: dict[str, Any],
        *,
        now: float,
        expected: TokenType | None,
        check_expiry: bool = True,
    ) -> TokenClaims:
        """Validate ``payload`` at time ``now``; ``expected=None`` accepts either type."""
        # A refresh token is ours from end to end: everything it carries is required.
        required = self.required
        if expected == "refresh":
            required = required | {"exp", "iat", "jti", "type"}
        for name in required:
            if payload.get(name) is None:
                raise Rejected("missing_claim")
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > _MAX_ID_LENGTH:
            raise Rejected("missing_claim" if sub is None else "bad_claim")
        exp = _number(payload, "exp")
        iat = _number(payload, "iat")
        nbf = _number(payload, "nbf")
        auth_time = _number(payload, "auth_time")
        jti = _identifier(payload, "jti")
        sid = _identifier(payload, "sid")
        leeway = self.leeway
        if check_expiry and exp is not None and exp <= now - leeway:
            raise Rejected("expired")
        if nbf is not None and nbf > now + leeway:
            raise Rejected("not_yet_valid")
        if iat is not None and iat > now + leeway:
            raise Rejected("issued_in_future")
        token_type = payload.get("type", "access")
        if token_type not in ("access", "refresh"):
            raise Rejected("bad_claim")
        if expected is not None and token_type != expected:
            raise Rejected("wrong_type")
        if expected == "refresh" and sid is None:
            raise Rejected("missing_claim")
        iss = payload.get("iss")
        if self.issuer is not None and iss != self.issuer:
            raise Rejected("wrong_issuer")
        if iss is not None and not isinstance(iss, str):
            raise Rejected("bad_claim")
        aud = payload.get("aud")
        if not self._audience_ok(aud):
            raise Rejected("wrong_audience")
        extra = {k: v for k, v in payload.items() if k not in RESERVED_CLAIMS}
        return TokenClaims(
            sub=sub,
            type=token_type,
            jti=jti,
            iat=iat,
            exp=exp,
            nbf=nbf,
            iss=iss,
            aud=aud,
            sid=sid,
            auth_time=auth_time,
            extra=MappingProxyType(extra),
        )

    def _audience_ok(self, aud: Any) -> bool:
        if self.audience is None:
            # A token addressed to someone must not be accepted by a service that
            # was never told its own name.
            return aud is None
        if isinstance(aud, str):
            return aud == self.audience
        if isinstance(aud, list) and all(isinstance(item, str) for item in aud):
            return self.audience in aud
        return False
