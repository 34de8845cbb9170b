"""On a real 3-master Redis Cluster: scripts stay in one slot per namespace, all paths work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from backendkit.cache import Cache, CacheResult, Outcome
from backendkit.redis import RedisConfig

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def _cache(url: str, **options: object) -> Cache:
    config = RedisConfig(url, connect_timeout=2, command_timeout=2)
    return Cache(config, key_prefix="bkc-cluster:", **options)  # type: ignore[arg-type]


def test_cluster_sync_paths(redis_cluster_url: str) -> None:
    """Miss, hit, invalidate, namespace bump and the direct API all work on a cluster."""
    cache = _cache(redis_cluster_url)

    @cache.cached(ttl=60, namespace="cl-users")
    def user(uid: int) -> dict[str, int]:
        return {"id": uid}

    @cache.cached(ttl=60, namespace="cl-users")
    def other(uid: int) -> int:
        return uid

    for uid in range(20):  # many keys: still one slot per namespace, so no CROSSSLOT
        assert user.call_detailed(uid).outcome is Outcome.LOADED
        assert user.call_detailed(uid).outcome is Outcome.HIT
    other(1)
    assert user.invalidate(3) is True
    assert user.call_detailed(3).outcome is Outcome.LOADED
    cache.invalidate_namespace("cl-users")
    assert user.call_detailed(4).outcome is Outcome.LOADED
    assert other.call_detailed(1).outcome is Outcome.LOADED
    assert cache.set("k", [1, 2], ttl=60, namespace="cl-direct") is True
    assert cache.get("k", list[int], namespace="cl-direct") == [1, 2]
    user.invalidate_all()
    cache.close()


def test_cluster_lock_waiter(redis_cluster_url: str) -> None:
    """A second "process" waits on the lock and receives the holder's value on a cluster."""
    a, b = _cache(redis_cluster_url), _cache(redis_cluster_url)
    entered, release = threading.Event(), threading.Event()

    @a.cached(ttl=60, namespace="cl-lock", key="k")
    def fa() -> int:
        entered.set()
        assert release.wait(10)
        return 1

    @b.cached(ttl=60, namespace="cl-lock", key="k")
    def fb() -> int:
        return 2

    fa.invalidate_all()
    results: list[CacheResult[int]] = []
    ta = threading.Thread(target=lambda: results.append(fa.call_detailed()))
    ta.start()
    assert entered.wait(10)
    tb = threading.Thread(target=lambda: results.append(fb.call_detailed()))
    tb.start()
    while b.stats.snapshot().lock_waits == 0:
        threading.Event().wait(0.002)
    release.set()
    ta.join()
    tb.join()
    assert sorted(r.outcome.value for r in results) == ["loaded", "shared"]
    assert all(r.value == 1 for r in results)
    a.close()
    b.close()


async def test_cluster_async_paths(redis_cluster_url: str) -> None:
    """The async connector's cluster client runs the same scripts."""
    cache = _cache(redis_cluster_url)
    loads = 0

    @cache.cached(ttl=60, namespace="cl-async")
    async def f(x: int) -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return x

    await f.invalidate_all()
    results = await asyncio.gather(*[f.call_detailed(1) for _ in range(20)])
    assert loads == 1
    assert {r.value for r in results} == {1}
    assert (await f.call_detailed(1)).outcome is Outcome.HIT
    assert await f.invalidate(1) is True
    assert await cache.aset("k", 5, ttl=10, namespace="cl-async") is True
    assert await cache.aget("k", int, namespace="cl-async") == 5
    await cache.aclose()
