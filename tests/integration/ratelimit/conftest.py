"""Fixtures for the rate limiter's Redis tests: a counting proxy in front of the real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from tests._services import unavailable
from tests.integration.ratelimit._cluster import LocalCluster
from tests.integration.ratelimit._proxy import CountingProxy


@pytest.fixture
def counting_proxy(redis_url: str) -> Iterator[CountingProxy]:
    """A loopback proxy to the shared Redis that counts the commands clients send."""
    parts = urlsplit(redis_url)
    proxy = CountingProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    proxy.url = parts._replace(netloc=netloc).geturl()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A private three-node Redis Cluster, shared by one module's tests (skips, or fails
    under REQUIRE_SERVICES, without the redis-server binary)."""
    try:
        cluster = LocalCluster(tmp_path_factory.mktemp("cluster"))
    except FileNotFoundError:
        unavailable("the redis-server binary is not installed")
        raise AssertionError("unreachable") from None  # pragma: no cover
    try:
        yield cluster
    finally:
        cluster.close()
