"""Where refresh-token families, revocations and "log out everywhere" live.

A *session* (a refresh family) starts at login and follows its refresh tokens: the store
keeps the current refresh ``jti``, the previous one and when it was rotated, and whether
the session was revoked. The decisions (rotate, replay the same pair within the grace
window, or detect reuse and revoke the family) are one atomic operation per call: under a
lock in memory, one Lua script on Redis. Every record expires with the tokens it guards
(TTL = remaining lifetime).

Stores receive ``now`` from the service's clock on every call, so tests move time instead
of sleeping. Write your own backend by implementing [`TokenStore`][backendkit.auth.TokenStore]
and/or [`AsyncTokenStore`][backendkit.auth.AsyncTokenStore].
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "AsyncTokenStore",
    "MemoryTokenStore",
    "NewSession",
    "RotationRequest",
    "RotationResult",
    "RotationStatus",
    "TokenStore",
]

#: ``rotated`` (first use), ``grace`` (a concurrent duplicate: here is the same pair),
#: ``reuse`` (a retired token came back: the family is now revoked), ``revoked``
#: (the session or token was revoked), ``unknown`` (no such session, or it expired).
RotationStatus = Literal["rotated", "grace", "reuse", "revoked", "unknown"]


@dataclass(frozen=True, slots=True)
class NewSession:
    """A login: a new refresh family whose first token is ``refresh_jti``.

    Attributes:
        sub: the user.
        sid: the new session id.
        refresh_jti: ``jti`` of the first refresh token.
        now: the service clock's time.
        expires_at: when the record may be forgotten (the refresh token's ``exp`` plus leeway).
    """

    sub: str
    sid: str
    refresh_jti: str
    now: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class RotationRequest:
    """One use of a refresh token, with the pair to hand out if it is the first use.

    Attributes:
        sub: the user.
        sid: the session the token belongs to.
        old_jti: ``jti`` of the presented refresh token.
        new_jti: ``jti`` of the new refresh token in ``pair``.
        pair: the new pair, serialized; stored for ``grace`` seconds so that a concurrent
            refresh of the same token receives the same pair.
        now: the service clock's time.
        grace: the grace window in seconds (0 disables it).
        expires_at: the session record's new expiry (the new refresh token's ``exp`` plus leeway).
    """

    sub: str
    sid: str
    old_jti: str
    new_jti: str
    pair: str
    now: float
    grace: float
    expires_at: float


@dataclass(frozen=True, slots=True)
class RotationResult:
    """What the store decided; ``pair`` is set for ``grace`` (the pair handed out before)."""

    status: RotationStatus
    pair: str | None = None


@runtime_checkable
class TokenStore(Protocol):
    """Sync token-store backend. Each method is one atomic operation."""

    def create_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        ...

    def rotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse; see ``RotationStatus``."""
        ...

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked (a short reason), or ``None``."""
        ...

    def revoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        ...

    def revoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session (its refresh tokens and, when checked, its access tokens)."""
        ...

    def revoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        ...


@runtime_checkable
class AsyncTokenStore(Protocol):
    """Async token-store backend: the same operations, ``a``-prefixed coroutines."""

    async def acreate_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        ...

    async def arotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse."""
        ...

    async def acheck(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        ...

    async def arevoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        ...

    async def arevoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        ...

    async def arevoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        ...


@dataclass(slots=True)
class _Family:
    cur: str
    expires_at: float
    prev: str | None = None
    rotated_at: float = 0.0
    revoked: bool = False
    pair: str | None = None
    pair_expires_at: float = 0.0


@dataclass(slots=True)
class _User:
    sessions: set[str] = field(default_factory=set)
    not_before: float | None = None
    expires_at: float = 0.0


class MemoryTokenStore:
    """The embedded store: one process only, thread-safe, sync and async.

    State is lost on restart, and then every refresh token is refused (fail closed: the
    store cannot tell a retired token from a current one). Use Redis when there is more
    than one worker process. The async methods do no I/O; they run the same code.

    Args:
        sweep_interval: seconds (of the service's clock) between purges of expired records.
    """

    def __init__(self, *, sweep_interval: float = 60.0) -> None:
        self._lock = threading.Lock()
        self._families: dict[tuple[str, str], _Family] = {}
        self._denied: dict[str, float] = {}
        self._users: dict[str, _User] = {}
        self._sweep_interval = sweep_interval
        self._next_sweep = 0.0

    def __len__(self) -> int:
        """Number of live records (sessions, denied ids and users); handy in tests."""
        with self._lock:
            return len(self._families) + len(self._denied) + len(self._users)

    # -- internals (called with the lock held) -------------------------------------------

    def _tick(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_interval
        self._families = {k: f for k, f in self._families.items() if f.expires_at > now}
        self._denied = {k: t for k, t in self._denied.items() if t > now}
        self._users = {k: u for k, u in self._users.items() if u.expires_at > now}

    def _family(self, sub: str, sid: str, now: float) -> _Family | None:
        family = self._families.get((sub, sid))
        if family is not None and family.expires_at <= now:
            del self._families[(sub, sid)]
            return None
        return family

    def _user(self, sub: str, now: float) -> _User | None:
        user = self._users.get(sub)
        if user is not None and user.expires_at <= now:
            del self._users[sub]
            return None
        return user

    def _is_denied(self, jti: str, now: float) -> bool:
        until = self._denied.get(jti)
        return until is not None and until > now

    # -- TokenStore ------------------------------------------------------------------------

    def create_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        with self._lock:
            now = session.now
            self._tick(now)
            self._families[(session.sub, session.sid)] = _Family(
                cur=session.refresh_jti, expires_at=session.expires_at, rotated_at=now
            )
            user = self._user(session.sub, now) or _User()
            user.sessions.add(session.sid)
            user.expires_at = max(user.expires_at, session.expires_at)
            self._users[session.sub] = user

    def rotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse."""
        with self._lock:
            now = request.now
            self._tick(now)
            family = self._family(request.sub, request.sid, now)
            if family is None:
                return RotationResult("unknown")
            if family.revoked or self._is_denied(request.old_jti, now):
                return RotationResult("revoked")
            if request.old_jti == family.cur:
                family.prev, family.cur = family.cur, request.new_jti
                family.rotated_at = now
                family.expires_at = request.expires_at
                family.pair = request.pair if request.grace > 0 else None
                family.pair_expires_at = now + request.grace
                user = self._user(request.sub, now)
                if user is not None:
                    user.expires_at = max(user.expires_at, request.expires_at)
                return RotationResult("rotated")
            if (
                request.old_jti == family.prev
                and request.grace > 0
                and now - family.rotated_at <= request.grace
                and family.pair is not None
            ):
                return RotationResult("grace", family.pair)
            # A retired token came back: attacker or victim, nobody can tell; end the family.
            family.revoked = True
            family.pair = None
            return RotationResult("reuse")

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        with self._lock:
            self._tick(now)
            if jti is not None and self._is_denied(jti, now):
                return "token_revoked"
            if sid is not None:
                family = self._family(sub, sid, now)
                if family is None:
                    return "session_unknown"
                return "session_revoked" if family.revoked else None
            user = self._user(sub, now)
            revoked_before = None if user is None else user.not_before
            if revoked_before is not None and (iat is None or iat < revoked_before):
                return "user_revoked"
            return None

    def revoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        with self._lock:
            self._tick(now)
            if expires_at > now:
                self._denied[jti] = max(expires_at, self._denied.get(jti, 0.0))

    def revoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        with self._lock:
            self._tick(now)
            family = self._family(sub, sid, now)
            if family is not None:
                family.revoked = True
                family.pair = None

    def revoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        with self._lock:
            self._tick(now)
            user = self._user(sub, now) or _User()
            for sid in user.sessions:
                family = self._family(sub, sid, now)
                if family is not None:
                    family.revoked = True
                    family.pair = None
            user.sessions = set()
            user.not_before = now if user.not_before is None else max(now, user.not_before)
            user.expires_at = max(user.expires_at, until)
            self._users[sub] = user

    # -- AsyncTokenStore: no I/O, so the same code --------------------------------------

    async def acreate_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        self.create_session(session)

    async def arotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse."""
        return self.rotate(request)

    async def acheck(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        return self.check(sub, jti, sid, iat, now)

    async def arevoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        self.revoke_token(sub, jti, expires_at, now)

    async def arevoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        self.revoke_session(sub, sid, now)

    async def arevoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        self.revoke_user(sub, now, until)
