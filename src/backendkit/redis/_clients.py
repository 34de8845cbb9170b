"""Build redis-py clients (sync and async) from a parsed URL: timeouts set, retries off.

redis-py 8 retries by default (10 attempts with jittered backoff for ``Redis`` and for
``RedisCluster``; sentinel clients inherit the ``Redis`` default) and waits 5 seconds per
socket operation. Every client built here gets ``Retry(NoBackoff(), 0)`` (exactly one
attempt: a retried script could charge a request twice) and the configured connect and
command timeouts. Building a client opens no connection, except the sync cluster client,
which discovers the cluster topology in its constructor.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.asyncio.sentinel
import redis.cluster
import redis.retry
import redis.sentinel

from backendkit.redis._config import ParsedRedisUrl
from backendkit.redis._core import ConnectorCore, no_backoff

__all__ = [
    "AsyncRedisClient",
    "Closable",
    "RedisClient",
    "build_async_client",
    "build_sync_client",
]

#: What a sync connector's ``client`` is (sentinel URLs give a plain ``Redis``).
RedisClient: TypeAlias = "redis.Redis | redis.cluster.RedisCluster"
#: What an async connector's ``client`` is.
AsyncRedisClient: TypeAlias = "redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster"
#: Extra objects to close with the client (the sentinel manager's own clients).
Closable: TypeAlias = "redis.sentinel.Sentinel | redis.asyncio.sentinel.Sentinel | None"


# Untyped redis-py constructors, given a type so mypy --strict accepts the calls.
_SyncClusterNode: Any = redis.cluster.ClusterNode
_SyncSentinel: Any = redis.sentinel.Sentinel
_AsyncSentinel: Any = redis.asyncio.sentinel.Sentinel


def _auth(parsed: ParsedRedisUrl) -> dict[str, Any]:
    return {"username": parsed.username, "password": parsed.password, "ssl": parsed.tls}


def build_sync_client(core: ConnectorCore) -> tuple[RedisClient, Closable]:
    """Build the sync client for ``core``'s URL, and what else must be closed with it."""
    parsed = core.parsed
    timeouts = core.timeouts()
    if parsed.kind == "standalone":
        client = redis.Redis.from_url(
            parsed.url, retry=redis.retry.Retry(no_backoff(), 0), **timeouts
        )
        return client, None
    if parsed.kind == "cluster":
        nodes = [_SyncClusterNode(host, port) for host, port in parsed.nodes]
        cluster = redis.cluster.RedisCluster(
            startup_nodes=nodes,
            retry=redis.retry.Retry(no_backoff(), 0),
            **_auth(parsed),
            **timeouts,
        )
        return cluster, None
    sentinel = _SyncSentinel(
        list(parsed.nodes),
        sentinel_kwargs={
            **_auth(parsed),
            **timeouts,
            "retry": redis.retry.Retry(no_backoff(), 0),
        },
        retry=redis.retry.Retry(no_backoff(), 0),
        db=parsed.db,
        **_auth(parsed),
        **timeouts,
    )
    master: redis.Redis = sentinel.master_for(str(parsed.service_name))
    return master, sentinel


def build_async_client(core: ConnectorCore) -> tuple[AsyncRedisClient, Closable]:
    """Build the async client for ``core``'s URL; no connection is opened here."""
    parsed = core.parsed
    timeouts = core.timeouts()
    if parsed.kind == "standalone":
        client = redis.asyncio.Redis.from_url(
            parsed.url, retry=redis.asyncio.retry.Retry(no_backoff(), 0), **timeouts
        )
        return client, None
    if parsed.kind == "cluster":
        nodes = [redis.asyncio.cluster.ClusterNode(host, port) for host, port in parsed.nodes]
        cluster = redis.asyncio.cluster.RedisCluster(
            startup_nodes=nodes,
            retry=redis.asyncio.retry.Retry(no_backoff(), 0),
            **_auth(parsed),
            **timeouts,
        )
        return cluster, None
    sentinel = _AsyncSentinel(
        list(parsed.nodes),
        sentinel_kwargs={
            **_auth(parsed),
            **timeouts,
            "retry": redis.asyncio.retry.Retry(no_backoff(), 0),
        },
        retry=redis.asyncio.retry.Retry(no_backoff(), 0),
        db=parsed.db,
        **_auth(parsed),
        **timeouts,
    )
    master: redis.asyncio.Redis = sentinel.master_for(str(parsed.service_name))
    return master, sentinel
