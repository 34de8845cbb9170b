"""Clients built by the connectors: retries off, short timeouts, no maintenance relaxing.

Building a standalone, sentinel or async cluster client opens no connection, so these
checks need no server. (The sync cluster client connects when built; it is covered by the
integration tests against a real single-node cluster.)
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster

from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

_CONFIG = {"connect_timeout": 0.11, "command_timeout": 0.22}


def _assert_kwargs(kwargs: dict[str, Any]) -> None:
    assert kwargs["socket_connect_timeout"] == 0.11
    assert kwargs["socket_timeout"] == 0.22
    assert kwargs["retry"].get_retries() == 0
    maint = kwargs.get("maint_notifications_config")
    assert maint is None or maint.enabled is False
    assert "maint_notifications_pool_handler" not in kwargs


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:1/2", "rediss://127.0.0.1:1/0", "unix:///tmp/none.sock"]
)
def test_sync_standalone_client(url: str) -> None:
    """redis://, rediss:// and unix:// give a plain Redis client, one attempt, our timeouts."""
    conn = RedisConnector(RedisConfig(url, **_CONFIG))
    client = conn.client
    assert isinstance(client, redis.Redis)
    assert not conn.is_cluster
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["retry"].get_retries() == 0
    assert kwargs["socket_timeout"] == 0.22
    if not url.startswith("unix"):
        _assert_kwargs(kwargs)
    conn.close()


def test_client_is_built_once_and_rebuilt_after_close() -> None:
    """The client is lazy and cached; close() drops it so the next use builds a new one."""
    conn = RedisConnector("redis://127.0.0.1:1/0")
    first = conn.client
    assert conn.client is first
    conn.close()
    assert conn.client is not first
    conn.close()
    conn.close()


def test_sync_sentinel_client() -> None:
    """A sentinel URL gives the master's client; master and sentinel clients never retry."""
    conn = RedisConnector(
        RedisConfig("redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/3", **_CONFIG)
    )
    with conn:
        client = conn.client
        assert isinstance(client, redis.Redis)
        kwargs = client.connection_pool.connection_kwargs
        _assert_kwargs(kwargs)
        assert (kwargs["db"], kwargs["password"]) == (3, "pw")
        sentinels = conn._extra.sentinels  # type: ignore[union-attr]
        assert len(sentinels) == 2
        for sentinel in sentinels:
            _assert_kwargs(sentinel.connection_pool.connection_kwargs)


async def test_async_standalone_client() -> None:
    """The async connector builds redis.asyncio.Redis with one attempt and our timeouts."""
    conn = AsyncRedisConnector(RedisConfig("redis://127.0.0.1:1/0", **_CONFIG))
    client = conn.client
    assert isinstance(client, redis.asyncio.Redis)
    _assert_kwargs(client.connection_pool.connection_kwargs)
    await conn.aclose()
    await conn.aclose()


async def test_async_cluster_client() -> None:
    """A cluster URL gives an asyncio RedisCluster with zero cluster retries."""
    conn = AsyncRedisConnector(
        RedisConfig("redis+cluster://:pw@127.0.0.1:1,127.0.0.1:2", **_CONFIG)
    )
    client = conn.client
    assert conn.is_cluster
    assert isinstance(client, redis.asyncio.cluster.RedisCluster)
    assert client.retry.get_retries() == 0
    kwargs = client.nodes_manager.connection_kwargs
    assert kwargs["socket_connect_timeout"] == 0.11
    assert kwargs["socket_timeout"] == 0.22
    assert kwargs["password"] == "pw"
    assert "maint_notifications_pool_handler" not in kwargs
    await conn.aclose()


async def test_async_sentinel_client() -> None:
    """The async sentinel master and sentinel clients never retry either."""
    async with AsyncRedisConnector(
        RedisConfig("redis+sentinel://127.0.0.1:1/mymaster", **_CONFIG)
    ) as conn:
        _assert_kwargs(conn.client.connection_pool.connection_kwargs)
        for sentinel in conn._extra.sentinels:  # type: ignore[union-attr]
            _assert_kwargs(sentinel.connection_pool.connection_kwargs)


def test_connectors_expose_config_name_and_breaker() -> None:
    """Both connectors report their config, name and breaker settings; reprs hide passwords."""
    config = RedisConfig("redis://:hunter2@127.0.0.1:1/0", breaker_threshold=2, breaker_cooldown=3)
    for conn in (
        RedisConnector(config, name="cache"),
        AsyncRedisConnector(config, name="cache"),
    ):
        assert conn.config is config
        assert conn.name == "cache"
        assert (conn.breaker.threshold, conn.breaker.cooldown) == (2, 3.0)
        assert "hunter2" not in repr(conn)
        assert "cache" in repr(conn)


def test_script_outside_execute_fails_loudly() -> None:
    """A registered script called without client= refuses instead of bypassing the breaker."""
    script = RedisConnector("redis://127.0.0.1:1/0").register_script("return 1")
    assert len(script.sha) == 40
    with pytest.raises(TypeError, match="inside execute"):
        script(keys=[], args=[])


async def test_async_script_outside_execute_fails_loudly() -> None:
    """The async twin refuses the same way."""
    script = AsyncRedisConnector("redis://127.0.0.1:1/0").register_script("return 1")
    with pytest.raises(TypeError, match="inside execute"):
        await script(keys=[], args=[])
