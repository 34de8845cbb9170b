"""The Redis token store: one Lua script per atomic operation, sync and async.

Every key of one user carries the same hash tag (``{<user hash>}``), so each script only
touches keys of one slot and runs unchanged on Redis Cluster. Key layout under the prefix::

    {u}:f:<sid>   hash: cur, prev, rot (rotated at), rev ("1" once revoked)   TTL = session
    {u}:p:<sid>   the pair handed out at the last rotation (grace window)     TTL = grace
    {u}:j:<jti>   a revoked token id                                          TTL = token
    {u}:s         set of the user's session ids                               TTL = longest
    {u}:nb        "revoke everything issued before" time                      TTL = longest

When Redis cannot be reached every operation raises
[`BackendUnavailable`][backendkit.errors.BackendUnavailable] (a 503): refresh and, when
enabled, the revocation check fail closed.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Any, cast

from backendkit._extras import require

require("redis", "redis")

from backendkit._b64 import b64url_encode
from backendkit.auth._redis_connectors import StoreConnectors
from backendkit.auth._store import (
    NewSession,
    RotationRequest,
    RotationResult,
    RotationStatus,
)
from backendkit.clock import Clock, system_clock
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

__all__ = ["RedisTokenStore"]

_CREATE = """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'rot', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
return 1
"""

# KEYS: family, pair, denied jti, sessions
# ARGV: old jti, new jti, pair, now, grace, family ttl ms, pair ttl ms
_ROTATE = """
local f = redis.call('HMGET', KEYS[1], 'cur', 'prev', 'rot', 'rev')
if not f[1] then return {'unknown'} end
if f[4] == '1' or redis.call('EXISTS', KEYS[3]) == 1 then return {'revoked'} end
if f[1] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'prev', ARGV[1], 'rot', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  if tonumber(ARGV[7]) > 0 then
    redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[7])
  else
    redis.call('DEL', KEYS[2])
  end
  if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[6]) then
    redis.call('PEXPIRE', KEYS[4], ARGV[6])
  end
  return {'rotated'}
end
local grace = tonumber(ARGV[5])
if f[2] == ARGV[1] and grace > 0 and tonumber(ARGV[4]) - tonumber(f[3]) <= grace then
  local pair = redis.call('GET', KEYS[2])
  if pair then return {'grace', pair} end
end
redis.call('HSET', KEYS[1], 'rev', '1')
redis.call('DEL', KEYS[2])
return {'reuse'}
"""

# KEYS: denied jti, family, not-before   ARGV: has jti, has sid, iat ('' when absent)
_CHECK = """
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 'token_revoked' end
if ARGV[2] == '1' then
  local f = redis.call('HMGET', KEYS[2], 'cur', 'rev')
  if not f[1] then return 'session_unknown' end
  if f[2] == '1' then return 'session_revoked' end
  return false
end
local nb = redis.call('GET', KEYS[3])
if nb then
  local iat = tonumber(ARGV[3])
  if not iat or iat < tonumber(nb) then return 'user_revoked' end
end
return false
"""

# KEYS: family, pair
_REVOKE_SESSION = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'rev', '1') end
redis.call('DEL', KEYS[2])
return 1
"""

# KEYS: sessions, not-before   ARGV: family key prefix, pair key prefix, now, ttl ms
_REVOKE_USER = """
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local family = ARGV[1] .. sid
  if redis.call('EXISTS', family) == 1 then redis.call('HSET', family, 'rev', '1') end
  redis.call('DEL', ARGV[2] .. sid)
end
redis.call('DEL', KEYS[1])
local old = tonumber(redis.call('GET', KEYS[2]) or '0')
local now = tonumber(ARGV[3])
if old > now then now = old end
redis.call('SET', KEYS[2], string.format('%.6f', now), 'PX', ARGV[4])
return 1
"""


def _ms(seconds: float) -> int:
    """A positive TTL in milliseconds (Redis refuses zero and negative ones)."""
    return max(1, math.ceil(seconds * 1000))


class _Keys:
    """Key building shared by the sync and async paths."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def base(self, sub: str) -> str:
        # Hashing keeps arbitrary user ids (braces, spaces, megabytes) out of key syntax.
        tag = b64url_encode(hashlib.sha256(sub.encode()).digest()[:16])
        return f"{self.prefix}{{{tag}}}:"

    def create(self, s: NewSession) -> tuple[list[str], list[Any]]:
        b = self.base(s.sub)
        ttl = _ms(s.expires_at - s.now)
        return [f"{b}f:{s.sid}", f"{b}p:{s.sid}", f"{b}s"], [s.refresh_jti, repr(s.now), ttl, s.sid]

    def rotate(self, r: RotationRequest) -> tuple[list[str], list[Any]]:
        b = self.base(r.sub)
        keys = [f"{b}f:{r.sid}", f"{b}p:{r.sid}", f"{b}j:{r.old_jti}", f"{b}s"]
        # The grace decision uses our clock; the pair's own TTL (a second longer) only
        # makes sure the stored tokens do not outlive the window by much.
        pair_ttl = _ms(r.grace + 1.0) if r.grace > 0 else 0
        args = [
            r.old_jti,
            r.new_jti,
            r.pair,
            repr(r.now),
            repr(float(r.grace)),
            _ms(r.expires_at - r.now),
            pair_ttl,
        ]
        return keys, args

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None
    ) -> tuple[list[str], list[Any]]:
        b = self.base(sub)
        keys = [f"{b}j:{jti or ''}", f"{b}f:{sid or ''}", f"{b}nb"]
        args = ["1" if jti else "0", "1" if sid else "0", "" if iat is None else repr(iat)]
        return keys, args

    def revoke_session(self, sub: str, sid: str) -> list[str]:
        b = self.base(sub)
        return [f"{b}f:{sid}", f"{b}p:{sid}"]

    def revoke_user(self, sub: str, now: float, until: float) -> tuple[list[str], list[Any]]:
        b = self.base(sub)
        return [f"{b}s", f"{b}nb"], [f"{b}f:", f"{b}p:", repr(now), _ms(until - now)]


def _result(raw: Sequence[Any]) -> RotationResult:
    items = [item.decode() if isinstance(item, bytes) else item for item in raw]
    status = items[0]
    if status not in ("rotated", "grace", "reuse", "revoked", "unknown"):  # pragma: no cover
        raise RuntimeError(f"unexpected rotation status {status!r}")
    return RotationResult(cast(RotationStatus, status), items[1] if len(items) > 1 else None)


def _reason(raw: Any) -> str | None:
    if raw is None or raw is False:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class RedisTokenStore:
    """Token store on Redis, shared by every worker; sync and async.

    Args:
        redis: a URL, a [`RedisConfig`][backendkit.redis.RedisConfig], or an existing
            [`RedisConnector`][backendkit.redis.RedisConnector] or
            [`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector] to share with
            the limiter and the cache. A URL or config builds both connectors (neither
            connects before its first use).
        async_redis: an async connector to pair with a sync ``redis`` connector.
        key_prefix: prefix of every key (isolates apps and tests sharing a server).
        clock: the breaker's clock for connectors built here from a URL or config.

    Raises:
        ConfigurationError: invalid URL; or, per call, the sync (or async) side is used
            without a connector of that kind.

    Example:
        ```python
        store = RedisTokenStore("redis://localhost:6379/0", key_prefix="myapp:tokens:")
        tokens = TokenService(key, store=store)
        ```
    """

    def __init__(
        self,
        redis: str | RedisConfig | RedisConnector | AsyncRedisConnector,
        *,
        async_redis: AsyncRedisConnector | None = None,
        key_prefix: str = "backendkit:tokens:",
        clock: Clock = system_clock,
    ) -> None:
        self._connectors = StoreConnectors.of(
            "RedisTokenStore", redis, async_redis, clock=clock, name="token_store"
        )
        sync, async_redis = self._connectors.sync, self._connectors.asynchronous
        self._keys = _Keys(key_prefix)
        self._sync_scripts = (
            {name: sync.register_script(lua) for name, lua in _SCRIPTS.items()} if sync else {}
        )
        self._async_scripts = (
            {name: async_redis.register_script(lua) for name, lua in _SCRIPTS.items()}
            if async_redis
            else {}
        )

    @property
    def key_prefix(self) -> str:
        """The prefix of every key this store writes."""
        return self._keys.prefix

    # -- I/O shells ---------------------------------------------------------------------

    def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        conn = self._connectors.connector()
        script = self._sync_scripts[name]
        return conn.execute(lambda r: script(keys=keys, args=args, client=r))

    async def _arun(self, name: str, keys: list[str], args: list[Any]) -> Any:
        conn = self._connectors.async_connector()
        script = self._async_scripts[name]
        return await conn.execute(lambda r: script(keys=keys, args=args, client=r))

    def _deny_args(self, sub: str, jti: str, expires_at: float, now: float) -> tuple[str, int]:
        return f"{self._keys.base(sub)}j:{jti}", _ms(expires_at - now)

    # -- TokenStore -----------------------------------------------------------------------

    def create_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        self._run("create", *self._keys.create(session))

    def rotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse (one script)."""
        return _result(self._run("rotate", *self._keys.rotate(request)))

    def check(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        return _reason(self._run("check", *self._keys.check(sub, jti, sid, iat)))

    def revoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        if expires_at <= now:
            return
        key, ttl = self._deny_args(sub, jti, expires_at, now)
        self._connectors.connector().execute(lambda r: r.set(key, "1", px=ttl))

    def revoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        self._run("revoke_session", self._keys.revoke_session(sub, sid), [])

    def revoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        self._run("revoke_user", *self._keys.revoke_user(sub, now, until))

    def ping(self) -> None:
        """Check that Redis answers (a ``PING`` through the breaker).

        Raises:
            BackendUnavailable: Redis is down, hung or the breaker is open (503, with the
                breaker's ``Retry-After``).
        """
        self._connectors.connector().execute(lambda r: r.ping())

    def close(self) -> None:
        """Close the sync connector's connections (a shared connector reconnects on use)."""
        self._connectors.close()

    # -- AsyncTokenStore ------------------------------------------------------------------

    async def acreate_session(self, session: NewSession) -> None:
        """Record a new refresh family."""
        await self._arun("create", *self._keys.create(session))

    async def arotate(self, request: RotationRequest) -> RotationResult:
        """Atomically rotate, replay (grace) or detect reuse (one script)."""
        return _result(await self._arun("rotate", *self._keys.rotate(request)))

    async def acheck(
        self, sub: str, jti: str | None, sid: str | None, iat: float | None, now: float
    ) -> str | None:
        """Return why an access token is revoked, or ``None``."""
        return _reason(await self._arun("check", *self._keys.check(sub, jti, sid, iat)))

    async def arevoke_token(self, sub: str, jti: str, expires_at: float, now: float) -> None:
        """Deny ``jti`` until ``expires_at``."""
        if expires_at <= now:
            return
        key, ttl = self._deny_args(sub, jti, expires_at, now)
        await self._connectors.async_connector().execute(lambda r: r.set(key, "1", px=ttl))

    async def arevoke_session(self, sub: str, sid: str, now: float) -> None:
        """Revoke one session."""
        await self._arun("revoke_session", self._keys.revoke_session(sub, sid), [])

    async def arevoke_user(self, sub: str, now: float, until: float) -> None:
        """Revoke every session of ``sub`` and every token issued before ``now``."""
        await self._arun("revoke_user", *self._keys.revoke_user(sub, now, until))

    async def aping(self) -> None:
        """Async twin of [`ping`][backendkit.auth.RedisTokenStore.ping].

        Raises:
            BackendUnavailable: Redis is down, hung or the breaker is open.
        """
        await self._connectors.async_connector().execute(lambda r: r.ping())

    async def aclose(self) -> None:
        """Close the async connector's connections (a shared one reconnects on use)."""
        await self._connectors.aclose()

    def __repr__(self) -> str:
        return f"RedisTokenStore(key_prefix={self._keys.prefix!r})"


_SCRIPTS = {
    "create": _CREATE,
    "rotate": _ROTATE,
    "check": _CHECK,
    "revoke_session": _REVOKE_SESSION,
    "revoke_user": _REVOKE_USER,
}
