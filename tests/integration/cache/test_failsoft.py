"""Fail-soft: with Redis stopped, refused or hung, every call goes to the loader.

Each outage is real (a private redis-server killed mid-test, a port where nothing
listens, a socket that accepts and never answers); nothing is mocked. Connection counts
come from sockets the test owns, proving that an open breaker keeps calls off the network.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests._services import HungServer, RedisServerFactory
from tests.integration.cache._proxy import CountingProxy

from backendkit.cache import Cache, CacheResult, Outcome
from backendkit.errors import BackendUnavailable
from backendkit.redis import BreakerState, RedisConfig
from backendkit.testing import FakeClock, capture_logs


def _config(url: str) -> RedisConfig:
    return RedisConfig(url, connect_timeout=0.2, command_timeout=0.2, breaker_cooldown=5)


def _breaker(cache: Cache) -> BreakerState:
    return cache._runtime.sync_backend().connector.breaker.state  # type: ignore[attr-defined,no-any-return]


def test_server_stopped_mid_test(
    redis_server_factory: RedisServerFactory,
    counting_proxy: Callable[[str], CountingProxy],
) -> None:
    """Stop Redis: calls load (degraded), then skip Redis entirely until the cooldown."""
    server = redis_server_factory()
    proxy = counting_proxy(server.url)
    clock = FakeClock()
    cache = Cache(_config(proxy.url()), clock=clock)
    loads = []

    @cache.cached(ttl=60)
    def price(sku: int) -> float:
        loads.append(sku)
        return sku * 1.5

    assert price.call_detailed(1) == CacheResult(1.5, Outcome.LOADED, False)
    assert price.call_detailed(1).outcome is Outcome.HIT
    server.stop()
    with capture_logs() as logs:
        result = price.call_detailed(1)
    assert result == CacheResult(1.5, Outcome.LOADED, True)
    assert any(e["event"] == "redis_unavailable" for e in logs)
    assert cache.degraded
    assert _breaker(cache) is BreakerState.OPEN
    connections, commands = proxy.connections, proxy.total()
    for sku in range(2, 22):
        assert price.call_detailed(sku) == CacheResult(sku * 1.5, Outcome.LOADED, True)
    assert cache.get("x", int) is None
    assert cache.set("x", 1, ttl=5) is False
    with pytest.raises(BackendUnavailable):
        price.invalidate(1)
    with pytest.raises(BackendUnavailable):
        cache.invalidate_namespace("n")
    # The breaker is open: not one connection attempt, not one command.
    assert (proxy.connections, proxy.total()) == (connections, commands)
    assert len(loads) == 22
    snap = price.stats.snapshot()
    assert snap.degraded == 21
    assert snap.errors >= 21

    server.start()
    clock.advance(5)  # cooldown over: the next call is the breaker's trial
    assert price.call_detailed(1) == CacheResult(1.5, Outcome.LOADED, False)
    assert price.call_detailed(1).outcome is Outcome.HIT
    assert not cache.degraded
    cache.close()


def test_server_dies_during_the_load(redis_server_factory: RedisServerFactory) -> None:
    """Redis dying between the read and the store: the loaded value is still returned."""
    server = redis_server_factory()
    cache = Cache(_config(server.url), clock=FakeClock())

    @cache.cached(ttl=60)
    def value() -> int:
        server.stop()
        return 42

    assert value.call_detailed() == CacheResult(42, Outcome.LOADED, True)
    cache.close()


def test_refused_port(dead_redis_url: str) -> None:
    """Nothing listens: every call returns the loader's value, marked degraded."""
    cache = Cache(_config(dead_redis_url), clock=FakeClock())
    calls = []

    @cache.cached(ttl=60)
    def f(x: int) -> int:
        calls.append(x)
        return x + 1

    results = [f.call_detailed(1) for _ in range(5)]
    assert results == [CacheResult(2, Outcome.LOADED, True)] * 5
    assert calls == [1] * 5
    assert _breaker(cache) is BreakerState.OPEN
    assert f(3) == 4
    cache.close()


async def test_refused_port_async(dead_redis_url: str) -> None:
    """The async path degrades the same way, through the async connector."""
    cache = Cache(_config(dead_redis_url), clock=FakeClock())

    @cache.cached(ttl=60)
    async def f(x: int) -> int:
        return x + 1

    assert await f.call_detailed(1) == CacheResult(2, Outcome.LOADED, True)
    assert await f.call_detailed(1) == CacheResult(2, Outcome.LOADED, True)
    assert await cache.aget("k", int) is None
    assert await cache.aset("k", 1, ttl=1) is False
    with pytest.raises(BackendUnavailable):
        await f.invalidate(1)
    with pytest.raises(BackendUnavailable):
        await f.invalidate_all()
    assert cache.degraded
    await cache.aclose()


def test_hung_server(hung_redis: HungServer) -> None:
    """A server that never answers costs one command timeout, then no connection at all."""
    cache = Cache(_config(hung_redis.url), clock=FakeClock())

    @cache.cached(ttl=60)
    def f(x: int) -> int:
        return x * 2

    assert f.call_detailed(1) == CacheResult(2, Outcome.LOADED, True)
    accepted = hung_redis.wait_for_accepted(1)
    assert accepted == 1
    for x in range(2, 30):
        assert f.call_detailed(x) == CacheResult(x * 2, Outcome.LOADED, True)
    assert hung_redis.accepted == accepted
    assert _breaker(cache) is BreakerState.OPEN
    cache.close()


async def test_hung_server_async(hung_redis: HungServer) -> None:
    """The async path: one timeout, then calls never touch the hung socket."""
    cache = Cache(_config(hung_redis.url), clock=FakeClock())

    @cache.cached(ttl=60)
    async def f(x: int) -> int:
        return x * 2

    assert await f.call_detailed(1) == CacheResult(2, Outcome.LOADED, True)
    accepted = hung_redis.wait_for_accepted(1)
    for x in range(2, 30):
        assert await f.call_detailed(x) == CacheResult(x * 2, Outcome.LOADED, True)
    assert hung_redis.accepted == accepted
    await cache.aclose()


def test_outage_still_loads_once_per_key_in_process(dead_redis_url: str) -> None:
    """While Redis is down, concurrent calls of one key still share one load."""
    import threading

    cache = Cache(_config(dead_redis_url), clock=FakeClock())
    cache.get("warm", int)  # open the breaker first
    entered = threading.Event()
    release = threading.Event()
    loads = []

    @cache.cached(ttl=60)
    def slow(x: int) -> int:
        loads.append(x)
        entered.set()
        assert release.wait(10)
        return x

    results: list[CacheResult[int]] = []
    leader = threading.Thread(target=lambda: results.append(slow.call_detailed(1)))
    leader.start()
    assert entered.wait(10)
    followers = [
        threading.Thread(target=lambda: results.append(slow.call_detailed(1))) for _ in range(5)
    ]
    for t in followers:
        t.start()
    key = slow.key(1)
    while cache._runtime.flights.waiters(key) < 5:
        threading.Event().wait(0.001)
    release.set()
    for t in [leader, *followers]:
        t.join()
    assert loads == [1]
    assert sorted(r.outcome.value for r in results) == ["loaded"] + ["shared"] * 5
    assert all(r.degraded for r in results)
    cache.close()
