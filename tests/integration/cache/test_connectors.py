"""Building a Redis cache from shared connectors, and unexpected backend errors."""

from __future__ import annotations

import redis

from backendkit.cache import Cache, CacheResult, Outcome
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
from backendkit.testing import capture_logs


def test_shared_sync_connector_is_used_and_left_open(redis_url: str, redis_prefix: str) -> None:
    """A connector passed in serves the cache and stays open after cache.close()."""
    conn = RedisConnector(redis_url)
    with Cache(conn, key_prefix=redis_prefix) as cache:

        @cache.cached(ttl=60)
        def f(x: int) -> int:
            return x

        f(1)
        assert f.call_detailed(1).outcome is Outcome.HIT
        assert cache._runtime.sync_backend().connector is conn  # type: ignore[attr-defined]
    assert conn.ping() is True
    conn.close()


async def test_sync_connector_cache_serves_async_functions(
    redis_url: str, redis_prefix: str
) -> None:
    """With only a sync connector, async functions get an async connector of the same config."""
    conn = RedisConnector(RedisConfig(redis_url, command_timeout=0.5))
    cache = Cache(conn, key_prefix=redis_prefix)

    @cache.cached(ttl=60)
    async def f(x: int) -> int:
        return x

    await f(1)
    assert (await f.call_detailed(1)).outcome is Outcome.HIT
    assert cache._runtime.async_backend().connector.config.command_timeout == 0.5  # type: ignore[attr-defined]
    await cache.aclose()
    conn.close()


async def test_shared_async_connectors(redis_url: str, redis_prefix: str) -> None:
    """An async connector as backend (or async_connector=) is used as is and left open."""
    aconn = AsyncRedisConnector(redis_url)
    async with Cache(aconn, key_prefix=redis_prefix) as cache:

        @cache.cached(ttl=60)
        async def f(x: int) -> int:
            return x

        await f(2)
        assert (await f.call_detailed(2)).outcome is Outcome.HIT
        assert cache._runtime.async_backend().connector is aconn  # type: ignore[attr-defined]

        @cache.cached(ttl=60)
        def g(x: int) -> int:  # a sync function still works: a sync connector is built
            return x

        g(1)
        assert g.call_detailed(1).outcome is Outcome.HIT
    assert await aconn.ping() is True
    conn = RedisConnector(redis_url)
    cache2 = Cache(conn, async_connector=aconn, key_prefix=redis_prefix)
    assert await cache2.aget("nothing", int) is None
    assert cache2._runtime.async_backend().connector is aconn  # type: ignore[attr-defined]
    await cache2.aclose()
    cache2.close()
    conn.close()
    await aconn.aclose()


def test_unexpected_backend_error_is_logged_and_degrades(redis_url: str, redis_prefix: str) -> None:
    """A WRONGTYPE reply (someone wrote a hash at our key) is logged; the call still works."""
    cache = Cache(redis_url, key_prefix=redis_prefix)

    @cache.cached(ttl=60)
    def f() -> int:
        return 3

    raw = redis.Redis.from_url(redis_url)
    raw.hset(f.key().replace(":v1:", ":wake:v1:", 1), "x", 1)  # not a stream
    raw.set(f.key().replace(":v1:", ":lock:v1:", 1), "other", px=60_000)
    raw.close()
    with capture_logs() as logs:
        result = f.call_detailed()
    assert result == CacheResult(3, Outcome.LOADED, True)
    assert any(e["event"] == "cache_backend_error" for e in logs)
    cache.close()


async def test_unexpected_backend_error_async(redis_url: str, redis_prefix: str) -> None:
    """The async backend logs and degrades the same way."""
    cache = Cache(redis_url, key_prefix=redis_prefix)

    @cache.cached(ttl=60)
    async def f() -> int:
        return 3

    raw = redis.Redis.from_url(redis_url)
    raw.hset(f.key().replace(":v1:", ":wake:v1:", 1), "x", 1)
    raw.set(f.key().replace(":v1:", ":lock:v1:", 1), "other", px=60_000)
    raw.close()
    with capture_logs() as logs:
        result = await f.call_detailed()
    assert result == CacheResult(3, Outcome.LOADED, True)
    assert any(e["event"] == "cache_backend_error" for e in logs)
    await cache.aclose()
