"""The token-store decisions shared by the database stores (SQLAlchemy and Django ORM).

A database store reads the state it needs (the session row, locked; whether a token id is
denied; a user's cut-off), asks these functions what to answer and what to write, and
writes it in the same transaction. The column names here are the field names of both the
SQLAlchemy tables and the Django models, so one dict of changes serves both.

The rules are the memory store's and the Redis script's: an unknown or expired session is
``unknown``; a revoked session or a denied token id is ``revoked``; the current token
rotates; the previous one within the grace window replays the stored pair; anything else
is reuse, and the session is revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from backendkit.auth._store import RotationRequest, RotationResult
from backendkit.errors import ConfigurationError

__all__ = [
    "REVOKED_VALUES",
    "SESSION_FIELDS",
    "PurgeSchedule",
    "SessionState",
    "Write",
    "check_reason",
    "decide_rotation",
    "new_session_values",
    "rotation_values",
]

#: What a rotation writes: nothing, the rotated session, or the revoked session.
Write = Literal["none", "rotate", "revoke"]

#: The columns a rotation reads, in `SessionState`'s order.
SESSION_FIELDS = (
    "current_jti",
    "previous_jti",
    "rotated_at",
    "revoked",
    "grace_pair",
    "expires_at",
)

#: The changes that revoke a session (its grace pair goes too: it holds a live token).
REVOKED_VALUES: dict[str, Any] = {"revoked": True, "grace_pair": None, "grace_until": None}


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session row as read (and locked) by a store."""

    current_jti: str
    previous_jti: str | None
    rotated_at: float
    revoked: bool
    grace_pair: str | None
    expires_at: float


def new_session_values(
    sub: str, sid: str, refresh_jti: str, now: float, expires_at: float
) -> dict[str, Any]:
    """The row of a new session."""
    return {
        "sub": sub,
        "sid": sid,
        "current_jti": refresh_jti,
        "previous_jti": None,
        "rotated_at": now,
        "revoked": False,
        "grace_pair": None,
        "grace_until": None,
        "expires_at": expires_at,
    }


def rotation_values(request: RotationRequest) -> dict[str, Any]:
    """The changes of a rotation: the new token becomes current, the pair is kept for grace."""
    keep = request.grace > 0
    return {
        "current_jti": request.new_jti,
        "previous_jti": request.old_jti,
        "rotated_at": request.now,
        "expires_at": request.expires_at,
        "grace_pair": request.pair if keep else None,
        "grace_until": request.now + request.grace if keep else None,
    }


def decide_rotation(
    state: SessionState | None, denied: bool, request: RotationRequest
) -> tuple[RotationResult, Write]:
    """What to answer for one use of a refresh token, and what to write.

    Args:
        state: the session row (read under a lock), or ``None`` when there is none.
        denied: whether the presented token's ``jti`` is denied.
        request: the rotation asked for.
    """
    if state is None or state.expires_at <= request.now:
        return RotationResult("unknown"), "none"
    if state.revoked or denied:
        return RotationResult("revoked"), "none"
    if request.old_jti == state.current_jti:
        return RotationResult("rotated"), "rotate"
    if (
        request.old_jti == state.previous_jti
        and request.grace > 0
        and request.now - state.rotated_at <= request.grace
        and state.grace_pair is not None
    ):
        return RotationResult("grace", state.grace_pair), "none"
    # A retired token came back: attacker or victim, nobody can tell; end the family.
    return RotationResult("reuse"), "revoke"


def check_reason(
    *,
    denied: bool,
    sid: str | None,
    session_revoked: bool | None,
    not_before: float | None,
    iat: float | None,
) -> str | None:
    """Why an access token is revoked, or ``None``, from what the store read.

    Args:
        denied: the token's ``jti`` is denied.
        sid: the token's session id, if it has one.
        session_revoked: the live session's ``revoked`` flag, ``None`` when there is no
            live session (only read when ``sid`` is set).
        not_before: the user's live cut-off, if any (only read without ``sid``).
        iat: the token's issue time.
    """
    if denied:
        return "token_revoked"
    if sid is not None:
        if session_revoked is None:
            return "session_unknown"
        return "session_revoked" if session_revoked else None
    if not_before is not None and (iat is None or iat < not_before):
        return "user_revoked"
    return None


class PurgeSchedule:
    """When a store cleans up after a login or a refresh: at most once per ``interval``
    seconds (of the times the service passes); never when ``interval`` is ``None``.

    Raises:
        ConfigurationError: ``interval`` is not positive (the message names ``owner``).
    """

    def __init__(self, owner: str, interval: float | None) -> None:
        if interval is not None and not interval > 0:
            raise ConfigurationError(f"{owner} purge_interval must be positive or None")
        self._interval = interval
        self._next = float("-inf")

    def due(self, now: float) -> bool:
        """True when a clean-up is due at ``now`` (and then not again for ``interval``)."""
        # Racing callers may both purge once: harmless, the second deletes nothing.
        if self._interval is None or now < self._next:
            return False
        self._next = now + self._interval
        return True
