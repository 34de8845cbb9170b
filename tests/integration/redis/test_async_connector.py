"""AsyncRedisConnector: the same guarantees as the sync connector, awaited."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
import redis.asyncio
from tests._services import HungServer, RedisServerFactory

from backendkit.errors import BackendUnavailable
from backendkit.redis import AsyncRedisClient, AsyncRedisConnector, BreakerState, RedisConfig
from backendkit.testing import FakeClock, capture_logs

INCR_BY = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


async def _get(client: AsyncRedisClient) -> Any:
    return await client.get("k")


async def test_round_trip_and_script(redis_url: str, redis_prefix: str) -> None:
    """Commands and a Lua script run through execute against a real Redis."""
    async with AsyncRedisConnector(redis_url) as conn:
        key = redis_prefix + "counter"
        assert await conn.execute(lambda r: r.set(key, 5)) is True
        script = conn.register_script(INCR_BY)
        assert await conn.execute(lambda r: script(keys=[key], args=[3], client=r)) == 8
        assert await conn.ping() is True
        assert isinstance(conn.client, redis.asyncio.Redis)


async def test_error_replies_propagate(redis_url: str, redis_prefix: str) -> None:
    """WRONGTYPE propagates unchanged; the breaker stays closed."""
    async with AsyncRedisConnector(redis_url) as conn:
        key = redis_prefix + "list"
        await conn.execute(lambda r: r.rpush(key, "a"))
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            await conn.execute(lambda r: r.incr(key))
        assert conn.breaker.state is BreakerState.CLOSED


async def test_refused_port(dead_redis_url: str, fake_clock: FakeClock) -> None:
    """Nothing listening: BackendUnavailable, breaker open, one warning, then fail fast."""
    conn = AsyncRedisConnector(dead_redis_url, clock=fake_clock)
    with capture_logs() as logs:
        with pytest.raises(BackendUnavailable) as first:
            await conn.execute(_get)
        assert isinstance(first.value.__cause__, redis.ConnectionError)
        with pytest.raises(BackendUnavailable) as second:
            await conn.execute(_get)
        assert second.value.__cause__ is None
        assert await conn.ping() is False
    assert [e["event"] for e in logs] == ["redis_unavailable"]
    await conn.aclose()


async def test_hung_server(hung_redis: HungServer, fake_clock: FakeClock) -> None:
    """A hung server: the call times out once, then no connection while the breaker is open."""
    config = RedisConfig(hung_redis.url, connect_timeout=0.2, command_timeout=0.1)
    conn = AsyncRedisConnector(config, clock=fake_clock)
    with pytest.raises(BackendUnavailable) as info:
        await conn.execute(_get)
    assert isinstance(info.value.__cause__, redis.TimeoutError | asyncio.TimeoutError)
    assert hung_redis.wait_for_accepted(1) == 1
    for _ in range(5):
        with pytest.raises(BackendUnavailable):
            await conn.execute(_get)
    assert hung_redis.wait_for_accepted(2, timeout=0.2) == 1
    fake_clock.advance(config.breaker_cooldown)
    with pytest.raises(BackendUnavailable):
        await conn.execute(_get)
    assert hung_redis.wait_for_accepted(2) == 2
    await conn.aclose()


async def test_concurrent_calls_while_open_all_fail_fast(
    hung_redis: HungServer, fake_clock: FakeClock
) -> None:
    """Many tasks at once against an open breaker: all fail, none connects."""
    conn = AsyncRedisConnector(RedisConfig(hung_redis.url, command_timeout=0.1), clock=fake_clock)
    with pytest.raises(BackendUnavailable):
        await conn.execute(_get)
    results = await asyncio.gather(*(conn.execute(_get) for _ in range(20)), return_exceptions=True)
    assert all(isinstance(r, BackendUnavailable) for r in results)
    assert hung_redis.wait_for_accepted(2, timeout=0.2) == 1
    await conn.aclose()


async def test_stopped_server_recovers_after_cooldown(
    redis_server_factory: RedisServerFactory, fake_clock: FakeClock
) -> None:
    """Stop Redis: 503s and an open breaker; restart it: closed again after the cooldown."""
    server = redis_server_factory()
    conn = AsyncRedisConnector(server.url, clock=fake_clock)
    assert await conn.execute(lambda r: r.set("k", "v")) is True
    server.stop()
    with pytest.raises(BackendUnavailable):
        await conn.execute(_get)
    server.start()
    with pytest.raises(BackendUnavailable):
        await conn.execute(_get)
    fake_clock.advance(conn.config.breaker_cooldown)
    assert await conn.execute(_get) is None  # a fresh server: the key is gone
    assert conn.breaker.state is BreakerState.CLOSED
    await conn.aclose()


async def test_cluster_round_trip(redis_cluster_url: str) -> None:
    """redis+cluster:// with the asyncio cluster client against a real one-node cluster."""
    async with AsyncRedisConnector(redis_cluster_url) as conn:
        assert conn.is_cluster
        script = conn.register_script(INCR_BY)
        key = "{async}:n"
        await conn.execute(lambda r: r.delete(key))
        assert await conn.execute(lambda r: script(keys=[key], args=[7], client=r)) == 7
        assert await conn.ping() is True


async def test_sentinel_round_trip(redis_sentinel_url: str) -> None:
    """redis+sentinel:// with the asyncio sentinel client against a real sentinel."""
    async with AsyncRedisConnector(redis_sentinel_url) as conn:
        assert await conn.execute(lambda r: r.set("k", "v")) is True
        assert await conn.execute(_get) == b"v"


async def test_unreachable_cluster(dead_redis: Any, fake_clock: FakeClock) -> None:
    """No cluster node reachable: BackendUnavailable."""
    conn = AsyncRedisConnector(f"redis+cluster://127.0.0.1:{dead_redis.port}", clock=fake_clock)
    with pytest.raises(BackendUnavailable):
        await conn.execute(lambda r: r.ping())
    assert conn.breaker.state is BreakerState.OPEN
    await conn.aclose()
