"""The cross-process load lock on a real Redis: waits are bounded and never deadlock.

Two `Cache` objects on one Redis stand for two processes: they share keys and the lock
but not their in-process flights.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis
from tests.integration.cache._proxy import CountingProxy

from backendkit.cache import Cache, CacheResult, Outcome
from backendkit.redis import RedisConfig
from backendkit.testing import FakeClock


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def test_crashed_holder_waiters_load_after_lock_wait(redis_url: str, redis_prefix: str) -> None:
    """A lock nobody will release (a crashed holder) delays a waiter by lock_wait, no more."""
    cache = Cache(redis_url, key_prefix=redis_prefix, lock_wait=0.3)

    @cache.cached(ttl=60)
    def f(x: int) -> int:
        return x

    lock_key = f.key(1).replace(":v1:", ":lock:v1:", 1)
    raw = redis.Redis.from_url(redis_url)
    raw.set(lock_key, "someone-else", px=60_000)
    try:
        result = f.call_detailed(1)
    finally:
        raw.close()
    assert result == CacheResult(1, Outcome.LOADED, False)
    assert f.stats.snapshot().lock_waits == 1
    assert f.call_detailed(1).outcome is Outcome.HIT  # stored without the lock
    cache.close()


def test_waiter_gets_the_holders_value_in_one_blocking_read(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """Process B waits while A loads, then gets A's value from the wake-up: no polling."""
    proxy = counting_proxy(redis_url)
    a = Cache(redis_url, key_prefix=redis_prefix)
    b = Cache(proxy.url(), key_prefix=redis_prefix)
    release = threading.Event()
    entered = threading.Event()

    def define(cache: Cache) -> Any:
        @cache.cached(ttl=60, namespace="shared")
        def report(day: int) -> list[int]:
            entered.set()
            assert release.wait(10)
            return [day, day]

        return report

    fa, fb = define(a), define(b)
    results: dict[str, CacheResult[list[int]]] = {}
    ta = threading.Thread(target=lambda: results.setdefault("a", fa.call_detailed(3)))
    ta.start()
    assert entered.wait(10)
    tb = threading.Thread(target=lambda: results.setdefault("b", fb.call_detailed(3)))
    tb.start()
    _wait_until(lambda: proxy.pending("XREAD") == 1, "B blocked on the wake-up")
    release.set()
    ta.join()
    tb.join()
    assert results["a"] == CacheResult([3, 3], Outcome.LOADED, False)
    assert results["b"] == CacheResult([3, 3], Outcome.SHARED, False)
    work = proxy.work()
    assert work["XREAD"] == 1
    assert work["MGET"] == 0
    # The read script (EVALSHA; + SCRIPT LOAD, EVALSHA on a new server) and one XREAD.
    assert work["EVALSHA"] <= 2
    assert sum(work.values()) <= 4
    a.close()
    b.close()


def test_holder_failure_wakes_waiters_who_load_themselves(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """If the holder's loader raises, waiters wake at once and load (exceptions not cached)."""
    proxy = counting_proxy(redis_url)
    a = Cache(redis_url, key_prefix=redis_prefix)
    b = Cache(proxy.url(), key_prefix=redis_prefix)
    release = threading.Event()
    entered = threading.Event()

    @a.cached(ttl=60, namespace="n", key="k")
    def fa() -> int:
        entered.set()
        assert release.wait(10)
        raise RuntimeError("db down")

    @b.cached(ttl=60, namespace="n", key="k")
    def fb() -> int:
        return 7

    errors: list[BaseException] = []

    def run_a() -> None:
        try:
            fa()
        except RuntimeError as exc:
            errors.append(exc)

    results: list[CacheResult[int]] = []
    ta = threading.Thread(target=run_a)
    ta.start()
    assert entered.wait(10)
    tb = threading.Thread(target=lambda: results.append(fb.call_detailed()))
    tb.start()
    _wait_until(lambda: proxy.pending("XREAD") == 1, "B blocked on the wake-up")
    release.set()
    ta.join()
    tb.join()
    assert len(errors) == 1
    assert results == [CacheResult(7, Outcome.LOADED, False)]
    assert fa.call_detailed().outcome is Outcome.HIT  # B stored its value
    a.close()
    b.close()


async def test_async_waiter_across_caches(redis_url: str, redis_prefix: str) -> None:
    """The async path waits on the same lock and gets the holder's value."""
    import asyncio

    a = Cache(redis_url, key_prefix=redis_prefix)
    b = Cache(redis_url, key_prefix=redis_prefix)
    release = asyncio.Event()
    entered = asyncio.Event()

    @a.cached(ttl=60, namespace="n", key="k")
    async def fa() -> dict[str, int]:
        entered.set()
        await release.wait()
        return {"v": 1}

    @b.cached(ttl=60, namespace="n", key="k")
    async def fb() -> dict[str, int]:
        return {"v": 2}

    ta = asyncio.create_task(fa.call_detailed())
    await entered.wait()
    tb = asyncio.create_task(fb.call_detailed())
    while b.stats.snapshot().lock_waits == 0:  # noqa: ASYNC110 - polling a probe, not an event
        await asyncio.sleep(0.005)
    # Whether B's XREAD is already blocked or arrives after A's append, it sees the append
    # (B reads from an explicit stream id, not "$").
    release.set()
    ra, rb = await ta, await tb
    assert ra == CacheResult({"v": 1}, Outcome.LOADED, False)
    assert rb == CacheResult({"v": 1}, Outcome.SHARED, False)
    await a.aclose()
    await b.aclose()


async def test_async_crashed_holder(redis_url: str, redis_prefix: str) -> None:
    """An async waiter behind a lock nobody releases loads after lock_wait."""
    cache = Cache(redis_url, key_prefix=redis_prefix, lock_wait=0.2)

    @cache.cached(ttl=60)
    async def f() -> int:
        return 5

    lock_key = f.key().replace(":v1:", ":lock:v1:", 1)
    raw = redis.Redis.from_url(redis_url)
    raw.set(lock_key, "x", px=60_000)
    raw.close()
    assert await f.call_detailed() == CacheResult(5, Outcome.LOADED, False)
    await cache.aclose()


def test_long_lock_wait_is_split_into_bounded_blocking_reads(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """A decorator waiting longer than the cache's wait connector allows uses a few XREADs."""
    proxy = counting_proxy(redis_url)
    cache = Cache(proxy.url(), key_prefix=redis_prefix, lock_wait=0.1)

    @cache.cached(ttl=60, lock_wait=0.35)
    def f() -> int:
        return 1

    raw = redis.Redis.from_url(redis_url)
    raw.set(f.key().replace(":v1:", ":lock:v1:", 1), "x", px=60_000)
    raw.close()
    assert f.call_detailed() == CacheResult(1, Outcome.LOADED, False)
    assert 2 <= proxy.work()["XREAD"] <= 5
    cache.close()


def test_stale_is_served_while_another_process_refreshes(redis_url: str, redis_prefix: str) -> None:
    """With stale_ttl, a caller that cannot take the refresh lock serves the stale value."""
    clock = FakeClock()
    cache = Cache(redis_url, key_prefix=redis_prefix, clock=clock, early_recompute=0)
    n = iter(range(1, 100))

    @cache.cached(ttl=10, stale_ttl=60)
    def f() -> int:
        return next(n)

    assert f() == 1
    clock.advance(11)
    raw = redis.Redis.from_url(redis_url)
    raw.set(f.key().replace(":v1:", ":lock:v1:", 1), "other", px=60_000)
    assert f.call_detailed() == CacheResult(1, Outcome.STALE, False)
    raw.delete(f.key().replace(":v1:", ":lock:v1:", 1))
    raw.close()
    assert f.call_detailed() == CacheResult(2, Outcome.LOADED, False)
    assert f.call_detailed() == CacheResult(2, Outcome.HIT, False)
    cache.close()


def test_waiter_outage_during_wait_loads_degraded(redis_server_factory: Any) -> None:
    """Redis dying while a waiter blocks: the waiter loads by itself, marked degraded."""
    server = redis_server_factory()
    cache = Cache(RedisConfig(server.url, command_timeout=0.5), lock_wait=5)

    @cache.cached(ttl=60)
    def f() -> int:
        return 9

    raw = redis.Redis.from_url(server.url)
    raw.set(f.key().replace(":v1:", ":lock:v1:", 1), "x", px=60_000)
    raw.close()
    result: list[CacheResult[int]] = []
    t = threading.Thread(target=lambda: result.append(f.call_detailed()))
    t.start()
    _wait_until(lambda: cache.stats.snapshot().lock_waits == 1, "the waiter")
    server.stop()  # the XREAD fails whether it was already blocked or not yet sent
    t.join()
    assert result == [CacheResult(9, Outcome.LOADED, True)]
    cache.close()
