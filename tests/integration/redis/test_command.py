"""The connectors' ``command``: one command at the lowest cost, guarded like ``execute``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
import redis.asyncio
from tests._services import HungServer

from backendkit.errors import BackendUnavailable
from backendkit.redis import AsyncRedisConnector, BreakerState, RedisConfig, RedisConnector
from backendkit.redis._command import arun_command, direct
from backendkit.testing import FakeClock


def test_command_round_trip_goes_straight_to_a_connection(
    redis_url: str, redis_prefix: str
) -> None:
    """A plain client: replies parsed by the command's callback, the connection reused."""
    key, absent = redis_prefix + "k", redis_prefix + "absent"
    with RedisConnector(redis_url) as conn:
        assert conn.command("SET", key, "v") is True  # SET's response callback applied
        assert direct(conn.client)
        assert conn.command("MGET", key, absent) == [b"v", None]
        assert conn.command("MGET", key, absent) == [b"v", None]
        pool: Any = conn.client.connection_pool
        assert len(pool._available_connections) == 1  # one connection, given back each time


def test_command_error_reply_propagates_and_keeps_the_connection(
    redis_url: str, redis_prefix: str
) -> None:
    """WRONGTYPE propagates unchanged, the breaker stays closed, the next command works."""
    key = redis_prefix + "list"
    with RedisConnector(redis_url) as conn:
        conn.command("RPUSH", key, "a")
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            conn.command("INCR", key)
        assert conn.breaker.state is BreakerState.CLOSED
        assert conn.command("LLEN", key) == 1


def test_command_goes_through_a_wrapped_execute_command(redis_url: str, redis_prefix: str) -> None:
    """A client hook that wraps execute_command (tracing) sees every command."""
    seen: list[tuple[Any, ...]] = []

    def hook(client: Any) -> None:
        original = client.execute_command

        def wrapped(*args: Any, **options: Any) -> Any:
            seen.append(args)
            return original(*args, **options)

        client.execute_command = wrapped

    key = redis_prefix + "k"
    with RedisConnector(redis_url) as conn:
        assert conn.command("SET", key, "v") is True
        conn.on_client = hook
        assert not direct(conn.client)
        assert conn.command("MGET", key) == [b"v"]
    assert seen == [("MGET", key)]


def test_command_hung_server_times_out(hung_redis: HungServer, fake_clock: FakeClock) -> None:
    """No answer: BackendUnavailable from a redis-py timeout, and the breaker opens."""
    config = RedisConfig(hung_redis.url, connect_timeout=0.2, command_timeout=0.1)
    conn = RedisConnector(config, clock=fake_clock)
    with pytest.raises(BackendUnavailable) as info:
        conn.command("GET", "k")
    assert isinstance(info.value.__cause__, redis.TimeoutError)
    assert conn.breaker.state is BreakerState.OPEN
    with pytest.raises(BackendUnavailable):
        conn.command("GET", "k")  # fails fast
    assert hung_redis.wait_for_accepted(2, timeout=0.2) == 1
    conn.close()


def test_command_on_a_cluster_uses_execute_command(redis_cluster_url: str) -> None:
    """A cluster client routes by slot: command goes through execute_command."""
    with RedisConnector(redis_cluster_url) as conn:
        assert not direct(conn.client)
        assert conn.command("SET", "{cmd}:k", "v") is True
        assert conn.command("MGET", "{cmd}:k", "{cmd}:absent") == [b"v", None]


def test_command_on_sentinel(redis_sentinel_url: str) -> None:
    """A sentinel master is a plain client: the short path, through the sentinel's pool."""
    with RedisConnector(redis_sentinel_url) as conn:
        assert conn.command("SET", "k", "v") is True
        assert direct(conn.client)
        assert conn.command("GET", "k") == b"v"


async def test_async_command_round_trip(redis_url: str, redis_prefix: str) -> None:
    """The async twin: same replies, straight to a connection, then the same connection."""
    key, absent = redis_prefix + "k", redis_prefix + "absent"
    async with AsyncRedisConnector(redis_url) as conn:
        assert await conn.command("SET", key, "v") is True
        assert direct(conn.client)
        assert await conn.command("MGET", key, absent) == [b"v", None]
        pool: Any = conn.client.connection_pool
        (connection,) = pool._available_connections
        assert connection.socket_timeout == conn.config.command_timeout
        assert await conn.command("RPUSH", key + "-list", "a") == 1
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            await conn.command("INCR", key + "-list")
        assert conn.breaker.state is BreakerState.CLOSED
        assert await conn.command("GET", key) == b"v"


async def test_async_command_hung_server_times_out(
    hung_redis: HungServer, fake_clock: FakeClock
) -> None:
    """No answer to a read: BackendUnavailable from the read timeout."""
    config = RedisConfig(hung_redis.url, connect_timeout=0.2, command_timeout=0.1)
    conn = AsyncRedisConnector(config, clock=fake_clock)
    with pytest.raises(BackendUnavailable) as info:
        await conn.command("GET", "k")
    assert isinstance(info.value.__cause__, redis.TimeoutError | asyncio.TimeoutError)
    assert conn.breaker.state is BreakerState.OPEN
    await conn.aclose()


async def test_async_command_large_send_to_a_hung_server(
    hung_redis: HungServer, fake_clock: FakeClock
) -> None:
    """A large send to a server that never answers is bounded by the command timeout (the
    send runs under a deadline instead of redis-py's wait_for): a redis-py timeout, the
    connection dropped, and its socket timeout restored for the next command."""
    config = RedisConfig(hung_redis.url, connect_timeout=0.2, command_timeout=0.2)
    conn = AsyncRedisConnector(config, clock=fake_clock)
    big = b"x" * (8 * 1024 * 1024)
    with pytest.raises(BackendUnavailable) as info:
        await conn.command("SET", "k", big)
    assert isinstance(info.value.__cause__, redis.TimeoutError)
    pool: Any = conn.client.connection_pool
    (connection,) = pool._available_connections
    assert not connection.is_connected
    assert connection.socket_timeout == 0.2
    await conn.aclose()


async def test_async_command_through_a_wrapped_execute_command(
    redis_url: str, redis_prefix: str
) -> None:
    """An instrumented async client keeps every command on its execute_command."""
    seen: list[tuple[Any, ...]] = []

    def hook(client: Any) -> None:
        original = client.execute_command

        async def wrapped(*args: Any, **options: Any) -> Any:
            seen.append(args)
            return await original(*args, **options)

        client.execute_command = wrapped

    key = redis_prefix + "k"
    async with AsyncRedisConnector(redis_url) as conn:
        conn.on_client = hook
        assert not direct(conn.client)
        assert await conn.command("SET", key, "v") is True
    assert seen == [("SET", key, "v")]


def test_direct_refuses_other_clients(redis_url: str) -> None:
    """Only a plain, unwrapped, pooled redis-py client takes the short path."""
    single = redis.Redis.from_url(redis_url, single_connection_client=True)
    try:
        assert not direct(single)
    finally:
        single.close()
    assert direct(redis.Redis.from_url(redis_url))
    assert not direct(object())


def test_command_read_timeout_drops_the_connection(redis_url: str, redis_prefix: str) -> None:
    """A reply that never comes (BLPOP on an empty list): timeout, connection dropped."""
    config = RedisConfig(redis_url, command_timeout=0.1)
    with RedisConnector(config) as conn:
        with pytest.raises(BackendUnavailable) as info:
            conn.command("BLPOP", redis_prefix + "empty", 0)
        assert isinstance(info.value.__cause__, redis.TimeoutError)
        pool: Any = conn.client.connection_pool
        (connection,) = pool._available_connections
        assert connection._sock is None  # never reused mid-reply


async def test_async_command_read_timeout_drops_the_connection(
    redis_url: str, redis_prefix: str
) -> None:
    """The async twin: the read times out, the connection is dropped and given back."""
    config = RedisConfig(redis_url, command_timeout=0.1)
    async with AsyncRedisConnector(config) as conn:
        with pytest.raises(BackendUnavailable):
            await conn.command("BLPOP", redis_prefix + "empty", 0)
        pool: Any = conn.client.connection_pool
        (connection,) = pool._available_connections
        assert not connection.is_connected
        assert connection.socket_timeout == 0.1


async def test_async_command_without_a_socket_timeout(redis_url: str) -> None:
    """A client built without a socket timeout sends as redis-py does (nothing to bound)."""
    client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=None)
    try:
        assert direct(client)
        assert await arun_command(client, ("PING",)) is True
    finally:
        await client.aclose()
