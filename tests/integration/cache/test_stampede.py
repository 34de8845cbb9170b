"""Stampedes: 200 concurrent calls of one key cost one read and one load per process.

The loader is held until every other caller is provably waiting (in-process followers
counted by the single-flight, other processes' blocked ``XREAD`` seen by a counting proxy),
so the callers really overlap. Every in-process case runs against a private redis-server
(nobody else's traffic, and no script cached yet, so the counts include loading them),
once directly and once through a counting proxy that holds every chunk 1-5 ms each way,
as a network does. Directly, connections and commands are the server's own counts
(``INFO stats``/``INFO commandstats`` deltas); through the proxy, what crossed the wire.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
import redis
from tests._services import RedisServerFactory
from tests.integration.cache._proxy import CountingProxy
from tests.integration.cache._workers import stampede_worker

from backendkit.cache import Cache, Outcome
from backendkit.cache._lock import ACQUIRE, FETCH, RELEASE, STORE
from backendkit.redis import RedisConfig

CALLERS = 200
#: What a network between the application and Redis adds, each way.
NETWORK = (0.001, 0.005)
#: The goal for 200 callers of one cold key in one process.
MAX_CONNECTIONS = 2
MAX_COMMANDS = 10
FETCH_SHA = hashlib.sha1(FETCH.encode()).hexdigest()
# Redis counts the commands a script runs in INFO commandstats; these are the ones the
# cache's scripts run (the cache never sends them itself on this path: the proxied twin
# of each test sees the wire).
_SCRIPT_INNER = frozenset({"get", "set", "del", "exists", "xadd", "xrevrange", "pexpire"})


class Counts(NamedTuple):
    """Connections opened and commands sent, by command name."""

    connections: int
    commands: Counter[str]

    @property
    def total(self) -> int:
        """Every command, the per-connection handshake included."""
        return sum(self.commands.values())


class _ServerMeter:
    """The private server's own counts, as deltas since construction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._admin = redis.Redis.from_url(url, decode_responses=True)
        self._base = self._read()

    def _read(self) -> Counts:
        stats = self._admin.info("commandstats")
        commands: Counter[str] = Counter()
        for name, row in stats.items():
            command = name.removeprefix("cmdstat_")
            if command not in _SCRIPT_INNER and command != "info":
                commands[command] = int(row["calls"])
        received = int(self._admin.info("stats")["total_connections_received"])
        return Counts(received, commands)

    def counts(self) -> Counts:
        now = self._read()
        return Counts(now.connections - self._base.connections, now.commands - self._base.commands)

    def close(self) -> None:
        self._admin.close()


class _ProxyMeter:
    """What crossed a delaying counting proxy."""

    def __init__(self, proxy: CountingProxy) -> None:
        self.url = proxy.url()
        self._proxy = proxy

    def counts(self) -> Counts:
        commands = Counter({k.lower(): n for k, n in self._proxy.commands().items()})
        return Counts(self._proxy.connections, commands)

    def close(self) -> None:
        """The proxy fixture closes the proxy."""


Meter = _ServerMeter | _ProxyMeter


@pytest.fixture(params=["direct", "network"])
def meter(
    request: pytest.FixtureRequest,
    redis_server_factory: RedisServerFactory,
    counting_proxy: Callable[..., CountingProxy],
) -> Iterator[Meter]:
    """A fresh private redis-server, reached directly or through a 1-5 ms proxy."""
    server = redis_server_factory()
    measure: Meter = (
        _ServerMeter(server.url)
        if request.param == "direct"
        else _ProxyMeter(counting_proxy(server.url, NETWORK))
    )
    yield measure
    measure.close()


def _config(url: str) -> RedisConfig:
    # Connection set-up through a 1-5 ms proxy on a loaded machine can exceed 0.25 s.
    return RedisConfig(url, connect_timeout=5, command_timeout=5)


def _wait_until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    # Readiness polling only; nothing is asserted about how long it takes.
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def _check(counts: Counts, label: str) -> None:
    print(f"\n{label}: {counts.connections} connections, {counts.total} commands {counts.commands}")
    assert counts.connections <= MAX_CONNECTIONS
    assert counts.total <= MAX_COMMANDS


def test_200_threads_one_key_one_read_one_load(meter: Meter) -> None:
    """200 threads on one cold key: 1 load, 1 connection, a handful of commands."""
    cache = Cache(_config(meter.url), key_prefix="st:")
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
    assert outcomes.count(Outcome.LOADED) == 1
    assert outcomes.count(Outcome.SHARED) == CALLERS - 1
    _check(meter.counts(), "200 threads")
    cache.close()


async def test_200_tasks_one_key_one_read_one_load(meter: Meter) -> None:
    """200 asyncio tasks on one cold key: 1 load, 1 connection, a handful of commands."""
    cache = Cache(_config(meter.url), key_prefix="st:")
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
    _check(meter.counts(), "200 tasks")
    await cache.aclose()


def test_200_threads_on_a_warm_key_share_reads(meter: Meter) -> None:
    """Hits coalesce too: 200 threads reading a cached key send far fewer than 200 reads."""
    cache = Cache(_config(meter.url), key_prefix="st:")

    @cache.cached(ttl=60)
    def report(day: int) -> dict[str, int]:
        return {"day": day}

    report(1)
    before = meter.counts().commands["evalsha"]
    barrier = threading.Barrier(CALLERS)
    outcomes: list[Outcome] = []

    def call() -> None:
        barrier.wait()
        outcomes.append(report.call_detailed(1).outcome)

    threads = [threading.Thread(target=call) for _ in range(CALLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reads = meter.counts().commands["evalsha"] - before
    assert outcomes == [Outcome.HIT] * CALLERS
    assert 1 <= reads <= CALLERS  # how many overlap depends on scheduling, never more
    assert report.stats.snapshot().hits == CALLERS
    print(f"\n200 threads on a warm key: {reads} reads")
    cache.close()


def test_a_full_pool_never_causes_a_second_load(redis_url: str, redis_prefix: str) -> None:
    """Every connection taken elsewhere: the key's one reader degrades, nobody else loads."""
    cache = Cache(_config(redis_url + "?max_connections=1"), key_prefix=redis_prefix)
    connector = cache._runtime.sync_backend().connector  # type: ignore[attr-defined]
    pool = connector.client.connection_pool
    held = pool.get_connection()  # the only connection, busy elsewhere
    loads = 0

    @cache.cached(ttl=60)
    def report(day: int) -> int:
        nonlocal loads
        loads += 1
        if loads == 1:
            key = report.key(day)
            _wait_until(lambda: cache._runtime.flights.waiters(key) == 49, "49 followers")
        return day

    barrier = threading.Barrier(50)
    results: list[Any] = []

    def call() -> None:
        barrier.wait()
        results.append(report.call_detailed(1))

    threads = [threading.Thread(target=call) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.release(held)
    assert loads == 1
    assert len(results) == 50
    assert all(r.value == 1 and r.degraded for r in results)
    assert report.call_detailed(1).outcome is Outcome.LOADED  # the pool is back: stored
    assert report.call_detailed(1).outcome is Outcome.HIT
    cache.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_4_processes_200_callers_load_once(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[..., CountingProxy]
) -> None:
    """4 spawned processes x 50 threads on one cold key: the loader runs exactly once.

    Each process talks to Redis through its own counting proxy (1-5 ms each way), so each
    process's commands are known: a waiting process costs its one read and one blocking
    XREAD, never a polling loop, and never one read per thread.
    """
    ctx = multiprocessing.get_context("spawn")
    procs, threads = 4, CALLERS // 4
    proxies = [counting_proxy(redis_url, NETWORK) for _ in range(procs)]
    loads = ctx.Value("i", 0)
    go = ctx.Event()
    readies = [ctx.Event() for _ in range(procs)]
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=stampede_worker,
            args=(proxies[i].url(), redis_prefix, threads, loads, readies[i], go, results),
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
        # One read and one XREAD; a server that had not cached the read script yet adds
        # SCRIPT LOAD and the retried EVALSHA.
        assert commands["XREAD"] == 1
        assert sum(commands.values()) <= 4
    # The loading process: its read and its store (each + SCRIPT LOAD, EVALSHA at worst).
    assert sum(sum(c.values()) for c in per_process) <= 4 * (procs - 1) + 6
    assert sum(p.connections for p in proxies) <= 2 * procs
    print(f"\n4 processes x 50 threads, Redis commands per process: {per_process}")


def _preload(url: str) -> None:
    """Cache the scripts on the server, so EVALSHA counts are exact (no NOSCRIPT retry)."""
    client = redis.Redis.from_url(url)
    try:
        for script in (FETCH, ACQUIRE, STORE, RELEASE):
            client.script_load(script)
    finally:
        client.close()


def test_callers_arriving_during_a_load_do_not_read(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[..., CountingProxy]
) -> None:
    """Once a load of a key is under way in this process, later callers just wait for it."""
    _preload(redis_url)
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
    assert _reads(proxy) == 1  # only the leader read
    assert slow.stats.snapshot().misses == 11
    cache.close()


async def test_tasks_arriving_during_a_load_do_not_read(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[..., CountingProxy]
) -> None:
    """The async twin: tasks arriving mid-load follow it without a read."""
    _preload(redis_url)
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
    assert _reads(proxy) == 1
    await cache.aclose()


def _reads(proxy: CountingProxy) -> int:
    return proxy.scripts()[FETCH_SHA]
