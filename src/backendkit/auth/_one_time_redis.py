"""One-time tokens on Redis, shared by every worker; sync and async.

Key layout under the prefix::

    t:<digest>                  the token's record (JSON)           TTL = the token's
    u:<user hash>:<purpose>     set of the user's digests           TTL = the newest token's

Consuming is one ``GETDEL`` (Redis 6.2+): of any number of concurrent consumers, Redis
hands the record to exactly one. Invalidation reads the user's set and deletes what it
lists; a token issued while that runs may survive it (it was issued after the password
change began, not before). No command spans two keys of different users, so the layout
works on Redis Cluster; the pipelines are not transactions.

When Redis cannot be reached every call raises
[`BackendUnavailable`][backendkit.errors.BackendUnavailable] (a ``503``): a reset cannot
be confirmed, and none is issued, while the store is down.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from backendkit.auth._one_time_core import OneTimeToken
from backendkit.auth._redis_connectors import StoreConnectors
from backendkit.clock import Clock, system_clock
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

__all__ = ["RedisOneTimeTokenStore"]


def _dump(record: OneTimeToken) -> str:
    return json.dumps(
        {
            "p": record.purpose,
            "u": record.user_id,
            "e": record.email,
            "i": record.issued_at,
            "x": record.expires_at,
        },
        separators=(",", ":"),
    )


def _load(raw: Any) -> OneTimeToken | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return OneTimeToken(data["p"], data["u"], data["e"], data["i"], data["x"])


def _ttl_ms(record: OneTimeToken) -> int:
    return max(1, math.ceil((record.expires_at - record.issued_at) * 1000))


class RedisOneTimeTokenStore:
    """One-time tokens in Redis; sync and async.

    Args:
        redis: a URL, a [`RedisConfig`][backendkit.redis.RedisConfig], or an existing
            [`RedisConnector`][backendkit.redis.RedisConnector] or
            [`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector] to share with
            the token store, the limiter and the cache. A URL or config builds both.
        async_redis: an async connector to pair with a sync ``redis`` connector.
        key_prefix: prefix of every key (isolates apps and tests sharing a server).
        clock: the breaker's clock for connectors built here from a URL or config.

    Raises:
        ConfigurationError: an invalid URL; per call, the side without a connector.

    Example:
        ```python
        store = RedisOneTimeTokenStore("redis://localhost:6379/0", key_prefix="myapp:ott:")
        ```
    """

    def __init__(
        self,
        redis: str | RedisConfig | RedisConnector | AsyncRedisConnector,
        *,
        async_redis: AsyncRedisConnector | None = None,
        key_prefix: str = "backendkit:one-time:",
        clock: Clock = system_clock,
    ) -> None:
        self._connectors = StoreConnectors.of(
            "RedisOneTimeTokenStore", redis, async_redis, clock=clock, name="one_time_tokens"
        )
        self.key_prefix = key_prefix

    def _token_key(self, digest: str) -> str:
        return f"{self.key_prefix}t:{digest}"

    def _user_key(self, user_id: str, purpose: str) -> str:
        # Hashed: arbitrary user ids (braces, spaces, megabytes) stay out of key syntax.
        tag = hashlib.sha256(user_id.encode()).hexdigest()[:32]
        return f"{self.key_prefix}u:{tag}:{purpose}"

    def add(self, digest: str, record: OneTimeToken) -> None:
        """Keep the record until it expires and list it under its user (one round trip)."""
        key, index, ttl = (
            self._token_key(digest),
            self._user_key(record.user_id, record.purpose),
            _ttl_ms(record),
        )

        def op(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.set(key, _dump(record), px=ttl)
            pipe.sadd(index, digest)
            pipe.pexpire(index, ttl)
            return pipe.execute()

        self._connectors.connector().execute(op)

    def take(self, digests: Sequence[str]) -> OneTimeToken | None:
        """``GETDEL`` the first digest that has a record."""
        conn = self._connectors.connector()
        for digest in digests:
            key = self._token_key(digest)
            record = _load(conn.execute(_getdel(key)))
            if record is not None:
                return record
        return None

    def invalidate(self, user_id: str, purpose: str) -> int:
        """Delete every token the user's set lists, then the set."""
        index = self._user_key(user_id, purpose)
        conn = self._connectors.connector()
        members = conn.execute(lambda r: r.smembers(index))
        keys = [self._token_key(_text(m)) for m in members]
        gone = int(conn.execute(lambda r: r.delete(*keys))) if keys else 0
        conn.execute(lambda r: r.delete(index))
        return gone

    async def aadd(self, digest: str, record: OneTimeToken) -> None:
        """Async twin of ``add``."""
        key, index, ttl = (
            self._token_key(digest),
            self._user_key(record.user_id, record.purpose),
            _ttl_ms(record),
        )

        async def op(r: Any) -> Any:
            pipe = r.pipeline(transaction=False)
            pipe.set(key, _dump(record), px=ttl)
            pipe.sadd(index, digest)
            pipe.pexpire(index, ttl)
            return await pipe.execute()

        await self._connectors.async_connector().execute(op)

    async def atake(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Async twin of ``take``."""
        conn = self._connectors.async_connector()
        for digest in digests:
            key = self._token_key(digest)
            record = _load(await conn.execute(_getdel(key)))
            if record is not None:
                return record
        return None

    async def ainvalidate(self, user_id: str, purpose: str) -> int:
        """Async twin of ``invalidate``."""
        index = self._user_key(user_id, purpose)
        conn = self._connectors.async_connector()
        members = await conn.execute(lambda r: r.smembers(index))
        keys = [self._token_key(_text(m)) for m in members]
        gone = int(await conn.execute(lambda r: r.delete(*keys))) if keys else 0
        await conn.execute(lambda r: r.delete(index))
        return gone

    def close(self) -> None:
        """Close the sync connector's connections (a shared connector reconnects on use)."""
        self._connectors.close()

    async def aclose(self) -> None:
        """Close the async connector's connections."""
        await self._connectors.aclose()

    def __repr__(self) -> str:
        return f"RedisOneTimeTokenStore(key_prefix={self.key_prefix!r})"


def _getdel(key: str) -> Callable[[Any], Any]:
    # GETDEL: read and delete in one command, so exactly one concurrent caller gets it.
    return lambda r: r.getdel(key)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
