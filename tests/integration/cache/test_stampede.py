"""Stampedes: 200 concurrent cold calls load once, in threads, tasks and 4 processes.

The loader is held until every other caller is provably waiting (in-process followers
counted by the single-flight, other processes' blocked ``XREAD`` seen by a counting proxy),
so the callers really overlap. Redis commands are counted client-side by the proxy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.cache._proxy import CountingProxy
from tests.integration.cache._workers import stampede_worker

from backendkit.cache import Cache, Outcome
from backendkit.redis import RedisConfig

CALLERS = 200
POOL = "?max_connections=1000"


def _cache_for(
    backend: str, request: pytest.FixtureRequest, proxy: Callable[[str], CountingProxy]
) -> tuple[Cache, CountingProxy | None]:
    if backend == "memory":
        return Cache("memory://"), None
    counting = proxy(request.getfixturevalue("redis_url"))
    prefix = request.getfixturevalue("redis_prefix")
    return Cache(_config(counting.url()), key_prefix=prefix), counting


def _config(url: str) -> RedisConfig:
    # redis-py 8 pools cap at 100 connections and fail beyond, so 200 concurrent callers
    # need a larger pool; 200 connections opened at once through the Python proxy on two
    # cores need more than the production 0.25 s connect timeout.
    return RedisConfig(url + POOL, connect_timeout=5, command_timeout=5)


def _wait_until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    # Readiness polling only; nothing is asserted about how long it takes.
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_200_threads_load_once(
    backend: str,
    request: pytest.FixtureRequest,
    counting_proxy: Callable[[str], CountingProxy],
) -> None:
    """200 threads on one cold key: one load; 199 followers get the value (1 read each)."""
    cache, proxy = _cache_for(backend, request, counting_proxy)
    loads = 0

    @cache.cached(ttl=60)
    def report(day: int) -> dict[str, int]:
        nonlocal loads
        loads += 1
        key = report.key(day)
        _wait_until(lambda: cache._runtime.flights.waiters(key) == CALLERS - 1, "199 followers")
        return {"day": day}

    barrier = threading.Barrier(CALLERS)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        result = report.call_detailed(1)
        assert result.value == {"day": 1}
        with lock:
            outcomes.append(result.outcome)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == 1
    assert sorted(outcomes).count(Outcome.LOADED) == 1
    assert outcomes.count(Outcome.SHARED) == CALLERS - 1
    if proxy is not None:
        commands = proxy.work()
        # At most one read per caller; only the leader runs the acquire and store scripts.
        assert commands["MGET"] <= CALLERS
        assert commands["EVALSHA"] + commands["EVAL"] <= 4
        print(
            f"\n200 threads, Redis commands: {dict(commands)}; per caller "
            f"{sum(commands.values()) / CALLERS:.3f}"
        )
    cache.close()


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_200_tasks_load_once(
    backend: str,
    request: pytest.FixtureRequest,
    counting_proxy: Callable[[str], CountingProxy],
) -> None:
    """200 asyncio tasks on one cold key: one load; the rest share it."""
    cache, proxy = _cache_for(backend, request, counting_proxy)
    loads = 0

    @cache.cached(ttl=60)
    async def report(day: int) -> dict[str, int]:
        nonlocal loads
        loads += 1
        key = report.key(day)
        while cache._runtime.aflights.waiters(key) < CALLERS - 1:  # noqa: ASYNC110 - a probe
            await asyncio.sleep(0.001)
        return {"day": day}

    start = asyncio.Event()

    async def call() -> Any:
        await start.wait()
        return await report.call_detailed(1)

    tasks = [asyncio.create_task(call()) for _ in range(CALLERS)]
    await asyncio.sleep(0)
    start.set()
    results = await asyncio.gather(*tasks)
    assert loads == 1
    assert all(r.value == {"day": 1} for r in results)
    assert [r.outcome for r in results].count(Outcome.LOADED) == 1
    if proxy is not None:
        commands = proxy.work()
        assert commands["MGET"] <= CALLERS
        assert commands["EVALSHA"] + commands["EVAL"] <= 4
        print(
            f"\n200 tasks, Redis commands: {dict(commands)}; per caller "
            f"{sum(commands.values()) / CALLERS:.3f}"
        )
    await cache.aclose()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_4_processes_200_callers_load_once(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """4 spawned processes x 50 threads on one cold key: the loader runs exactly once.

    Each process talks to Redis through its own counting proxy, so each process's commands
    are known: the waiting processes cost a fixed handful (read, acquire script, one
    blocking XREAD), never a polling loop.
    """
    ctx = multiprocessing.get_context("spawn")
    procs, threads = 4, CALLERS // 4
    proxies = [counting_proxy(redis_url) for _ in range(procs)]
    loads = ctx.Value("i", 0)
    go = ctx.Event()
    readies = [ctx.Event() for _ in range(procs)]
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=stampede_worker,
            args=(proxies[i].url() + POOL, redis_prefix, threads, loads, readies[i], go, results),
        )
        for i in range(procs)
    ]
    for w in workers:
        w.start()
    try:
        # Every process has 49 followers parked, one process is loading, and the other
        # three are blocked in XREAD on the wake-up stream: everyone overlaps.
        _wait_until(lambda: all(r.is_set() for r in readies), "followers in every process", 60)
        _wait_until(
            lambda: sum(p.pending("XREAD") for p in proxies) == procs - 1, "3 blocked XREADs", 60
        )
        assert loads.value == 1
        go.set()
        reports = [results.get(timeout=60) for _ in range(procs)]
    finally:
        go.set()
        for w in workers:
            w.join(timeout=60)
    assert all(w.exitcode == 0 for w in workers)
    assert loads.value == 1
    outcomes = [o for r in reports for o in r["outcomes"]]
    assert len(outcomes) == CALLERS
    assert outcomes.count("loaded") == 1
    assert outcomes.count("shared") == CALLERS - 1
    per_process = [dict(p.work()) for p in proxies]
    waiting = [c for c in per_process if c.get("XREAD")]
    assert len(waiting) == procs - 1
    for commands in waiting:
        # 50 reads (one per thread) + the acquire script + one XREAD; script loading on a
        # fresh connection may add SCRIPT LOAD + a retried EVALSHA.
        assert commands["XREAD"] == 1
        assert commands["MGET"] <= threads
        assert sum(commands.values()) - threads <= 4
    print(f"\n4 processes x 50 threads, Redis commands per process: {per_process}")


def test_callers_arriving_during_a_load_do_not_read(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """Once a load of a key is under way in this process, later callers just wait for it."""
    proxy = counting_proxy(redis_url)
    cache = Cache(_config(proxy.url()), key_prefix=redis_prefix)
    entered, release = threading.Event(), threading.Event()

    @cache.cached(ttl=60)
    def slow() -> int:
        entered.set()
        assert release.wait(10)
        return 1

    results: list[Any] = []
    leader = threading.Thread(target=lambda: results.append(slow.call_detailed()))
    leader.start()
    assert entered.wait(10)
    late = [
        threading.Thread(target=lambda: results.append(slow.call_detailed())) for _ in range(10)
    ]
    for t in late:
        t.start()
    _wait_until(lambda: cache._runtime.flights.waiters(slow.key()) == 10, "10 late callers")
    release.set()
    for t in [leader, *late]:
        t.join()
    assert sorted(r.outcome.value for r in results) == ["loaded"] + ["shared"] * 10
    assert proxy.work()["MGET"] == 1  # only the leader read
    assert slow.stats.snapshot().misses == 11
    cache.close()


async def test_tasks_arriving_during_a_load_do_not_read(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[[str], CountingProxy]
) -> None:
    """The async twin: tasks arriving mid-load follow it without a read."""
    proxy = counting_proxy(redis_url)
    cache = Cache(_config(proxy.url()), key_prefix=redis_prefix)
    entered, release = asyncio.Event(), asyncio.Event()

    @cache.cached(ttl=60)
    async def slow() -> int:
        entered.set()
        await release.wait()
        return 1

    leader = asyncio.create_task(slow.call_detailed())
    await entered.wait()
    late = [asyncio.create_task(slow.call_detailed()) for _ in range(10)]
    while cache._runtime.aflights.waiters(slow.key()) < 10:  # noqa: ASYNC110 - a probe
        await asyncio.sleep(0.001)
    release.set()
    results = await asyncio.gather(leader, *late)
    assert sorted(r.outcome.value for r in results) == ["loaded"] + ["shared"] * 10
    assert proxy.work()["MGET"] == 1
    await cache.aclose()
