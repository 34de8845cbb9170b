"""The connectors' ``command`` checks connections out of redis-py's pool itself.

It takes an idle connection from the pool's list and gives it back, skipping the pool's
per-call bookkeeping, but keeps what that bookkeeping is for: a connection the server
closed meanwhile, or one with bytes nobody read, is reconnected rather than used; a new
connection is made (and counted) by the pool; the pool's counts stay exact.
"""

from __future__ import annotations

import asyncio
import os
import resource
import select
from typing import Any

import pytest
import redis
import redis.asyncio

from backendkit.redis import AsyncRedisConnector, BreakerState, RedisConnector
from backendkit.redis._command import arun_command, run_command


def _kill(redis_url: str, client_id: int) -> None:
    admin = redis.Redis.from_url(redis_url)
    try:
        assert admin.client_kill_filter(_id=client_id) == 1
    finally:
        admin.close()


def test_a_connection_the_server_closed_is_reconnected(redis_url: str, redis_prefix: str) -> None:
    """The server drops an idle pooled connection: the next command reconnects and works."""
    key = redis_prefix + "k"
    with RedisConnector(redis_url) as conn:
        assert conn.command("SET", key, "v") is True
        first = conn.command("CLIENT", "ID")
        _kill(redis_url, first)
        assert conn.command("GET", key) == b"v"
        assert conn.command("CLIENT", "ID") != first  # a new connection to the server
        assert conn.breaker.state is BreakerState.CLOSED
        pool: Any = conn.client.connection_pool
        assert len(pool._available_connections) == 1
        assert not pool._in_use_connections


def test_a_connection_with_unread_bytes_is_not_used(redis_url: str, redis_prefix: str) -> None:
    """Bytes waiting on an idle connection (a reply nobody read) never answer a command."""
    key = redis_prefix + "k"
    with RedisConnector(redis_url) as conn:
        assert conn.command("SET", key, "v") is True
        pool: Any = conn.client.connection_pool
        (connection,) = pool._available_connections
        connection.send_command("PING")  # its PONG stays on the socket
        assert select.select([connection._sock], [], [], 2)[0]  # once it has arrived
        assert conn.command("GET", key) == b"v"
        assert conn.command("GET", key) == b"v"


def test_a_new_connection_comes_from_the_pool(redis_url: str) -> None:
    """With no idle connection the pool makes one (within its size); both end idle."""
    client = redis.Redis.from_url(redis_url)
    try:
        pool: Any = client.connection_pool
        held = pool.get_connection()  # the pool's only connection is busy elsewhere
        assert run_command(client, ("PING",)) is True
        assert len(pool._available_connections) == 1
        pool.release(held)
        assert len(pool._available_connections) == 2
        assert not pool._in_use_connections
        assert run_command(client, ("PING",)) is True
        assert len(pool._available_connections) == 2
    finally:
        client.close()


def test_a_blocking_pool_keeps_its_own_methods(redis_url: str) -> None:
    """Another pool class is driven through get_connection and release."""
    pool = redis.BlockingConnectionPool.from_url(redis_url, max_connections=1)
    client = redis.Redis(connection_pool=pool)
    try:
        assert run_command(client, ("PING",)) is True
        assert run_command(client, ("PING",)) is True
        assert pool.pool.qsize() == 1  # given back into the blocking pool's queue
    finally:
        client.close()


async def test_async_a_connection_the_server_closed_is_reconnected(
    redis_url: str, redis_prefix: str
) -> None:
    """The async twin: a killed idle connection is reconnected, the command answers."""
    key = redis_prefix + "k"
    async with AsyncRedisConnector(redis_url) as conn:
        assert await conn.command("SET", key, "v") is True
        first = await conn.command("CLIENT", "ID")
        _kill(redis_url, first)
        idle: Any = conn.client.connection_pool
        (connection,) = idle._available_connections
        for _ in range(200):  # until the event loop has read the server's close
            if connection._reader.at_eof():
                break
            await asyncio.sleep(0.01)
        assert await conn.command("GET", key) == b"v"
        assert await conn.command("CLIENT", "ID") != first
        assert conn.breaker.state is BreakerState.CLOSED
        pool: Any = conn.client.connection_pool
        assert len(pool._available_connections) == 1
        assert not pool._in_use_connections


async def test_async_a_connection_with_unread_bytes_is_not_used(
    redis_url: str, redis_prefix: str
) -> None:
    """The async twin: a reply nobody read never answers the next command."""
    key = redis_prefix + "k"
    async with AsyncRedisConnector(redis_url) as conn:
        assert await conn.command("SET", key, "v") is True
        pool: Any = conn.client.connection_pool
        (connection,) = pool._available_connections
        await connection.send_command("PING")
        for _ in range(200):  # until the PONG has arrived in the connection's reader
            if await connection.can_read():
                break
            await asyncio.sleep(0.01)
        assert await conn.command("GET", key) == b"v"
        assert await conn.command("GET", key) == b"v"


async def test_async_concurrent_commands_share_the_pool(redis_url: str) -> None:
    """Concurrent commands: the pool makes the connections, all come back idle."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        replies = await asyncio.gather(*(arun_command(client, ("PING",)) for _ in range(5)))
        assert replies == [True] * 5
        pool: Any = client.connection_pool
        assert not pool._in_use_connections
        idle = len(pool._available_connections)
        assert 1 <= idle <= 5
        await asyncio.gather(*(arun_command(client, ("PING",)) for _ in range(idle)))
        assert len(pool._available_connections) == idle  # reused, none made
    finally:
        await client.aclose()


def test_a_socket_past_fd_setsize_is_checked(redis_url: str, redis_prefix: str) -> None:
    """A busy process's sockets get descriptors past 1024, where select() refuses them."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"the file descriptor limit ({soft}) is too low to pass 1024")
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    key = redis_prefix + "k"
    try:
        with RedisConnector(redis_url) as conn:
            assert conn.command("SET", key, "v") is True
            pool: Any = conn.client.connection_pool
            (connection,) = pool._available_connections
            assert connection._sock.fileno() >= 1024
            assert conn.command("GET", key) == b"v"  # the idle socket checked, then reused
            assert pool._available_connections == [connection]
    finally:
        for fd in fillers:
            os.close(fd)
