"""Fixtures for the cache suites: every behaviour test runs on memory:// and on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from backendkit.cache import Cache
from backendkit.testing import FakeClock
from tests.integration.cache._proxy import CountingProxy

MakeCache = Callable[..., Cache]


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; the Redis variant skips (or fails) without Redis."""
    return str(request.param)


@pytest.fixture
async def make_cache(
    request: pytest.FixtureRequest, backend: str, fake_clock: FakeClock
) -> AsyncIterator[MakeCache]:
    """Build caches on the backend under test (FakeClock, per-test Redis prefix), closed after."""
    caches: list[Cache] = []
    url = "memory://?max_entries=1000"
    prefix = "bkc:"
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")

    def make(**options: Any) -> Cache:
        options.setdefault("clock", fake_clock)
        options.setdefault("key_prefix", prefix)
        cache = Cache(options.pop("url", url), **options)
        caches.append(cache)
        return cache

    yield make
    for cache in caches:
        await cache.aclose()
        cache.close()


@pytest.fixture
def counting_proxy() -> Iterator[Callable[[str], CountingProxy]]:
    """Start counting proxies in front of Redis URLs; all are closed after the test."""
    proxies: list[CountingProxy] = []

    def start(url: str) -> CountingProxy:
        proxy = CountingProxy.for_url(url)
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.close()
