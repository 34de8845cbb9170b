"""One-time tokens, the pure part: purposes, the token format, digests and the record.

A token is 32 random bytes from ``secrets`` in base64url (43 characters, 256 bits). Only
an HMAC-SHA256 of it is ever stored, computed with a server key over the purpose and the
token, so a digest found for one purpose does not exist for another: consuming a reset
token as an email verification finds nothing, and leaves the token usable for its own
purpose. Nothing here does I/O; the service and the stores share it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backendkit.errors import BadRequest, ConfigurationError

__all__ = [
    "DEFAULT_TTLS",
    "EMAIL_VERIFICATION",
    "INVITATION",
    "PASSWORD_RESET",
    "InvalidOneTimeToken",
    "OneTimeToken",
]

#: Purpose of a password-reset token.
PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose's name, not a password)
#: Purpose of an email-verification token.
EMAIL_VERIFICATION = "email_verification"
#: Purpose of an invitation token.
INVITATION = "invitation"

#: Lifetime in seconds of each built-in purpose: reset 30 minutes, verification one day,
#: invitation three days (an invitee may take a weekend to answer).
DEFAULT_TTLS: Mapping[str, float] = {
    PASSWORD_RESET: 30 * 60,
    EMAIL_VERIFICATION: 24 * 3600,
    INVITATION: 3 * 24 * 3600,
}

_SECRET_BYTES = 32
# base64url without padding of 32 bytes: exactly 43 characters, the last one of the 16
# that encode trailing zero bits (so a non-canonical spelling is refused, never decoded).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")
_PURPOSE = re.compile(r"[a-z0-9_.-]{1,40}")
_MIN_KEY_BYTES = 32


class InvalidOneTimeToken(BadRequest):
    """A one-time token that is unknown, used, expired, invalidated, for another purpose
    or malformed: one ``400`` whatever the reason, so the answer tells an attacker nothing."""

    default_message = "The token is invalid or has expired"


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    """What a consumed token was issued for (the stores keep it under the token's digest).

    Attributes:
        purpose: e.g. ``"password_reset"``.
        user_id: the account (or invitation) the token acts on.
        email: the address the token was sent to (an email verification proves this one).
        issued_at: seconds since the epoch, from the service's clock.
        expires_at: seconds since the epoch; the token is refused at and after it.
    """

    purpose: str
    user_id: str
    email: str
    issued_at: float
    expires_at: float


def check_ttls(ttls: Mapping[str, float]) -> dict[str, float]:
    """The purposes a service accepts and their lifetimes, checked once at construction."""
    if not ttls:
        raise ConfigurationError("one-time tokens need at least one purpose")
    checked: dict[str, float] = {}
    for purpose, ttl in ttls.items():
        if not isinstance(purpose, str) or not _PURPOSE.fullmatch(purpose):
            raise ConfigurationError(
                f"invalid one-time token purpose {purpose!r}: 1-40 of a-z 0-9 _ . -"
            )
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not 0 < ttl < 10**8:
            raise ConfigurationError(f"the lifetime of {purpose!r} must be a positive number")
        checked[purpose] = float(ttl)
    return checked


def new_token() -> str:
    """A fresh token: 256 random bits from ``secrets``, base64url."""
    return secrets.token_urlsafe(_SECRET_BYTES)


def well_formed(token: object) -> bool:
    """True for a string shaped like a token (checked before any hashing or I/O)."""
    return isinstance(token, str) and len(token) == 43 and _TOKEN.fullmatch(token) is not None


class Digester:
    """HMAC-SHA256 digests of tokens under the server keys (the first one for new tokens)."""

    __slots__ = ("_keys",)

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("one-time tokens need at least one server key")
        for key in keys:
            if not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES:
                raise ConfigurationError(
                    f"a one-time token server key must be at least {_MIN_KEY_BYTES} bytes"
                )
        self._keys = tuple(keys)

    @staticmethod
    def _digest(key: bytes, purpose: str, token: str) -> str:
        return hmac.new(key, f"{purpose}\n{token}".encode(), hashlib.sha256).hexdigest()

    def new(self, purpose: str, token: str) -> str:
        """The digest a new token is stored under."""
        return self._digest(self._keys[0], purpose, token)

    def candidates(self, purpose: str, token: str) -> list[str]:
        """Every digest the token may be stored under (one per key, for rotation)."""
        return [self._digest(key, purpose, token) for key in self._keys]


def email_bucket(email: str) -> str:
    """Rate-limit key of one email address; the address itself stays out of the storage."""
    normalized = email.strip().lower()
    return "email:" + hashlib.sha256(normalized.encode()).hexdigest()[:32]
