"""Exactly N allowed when many threads and several processes hit one key on Redis.

The limiter runs fail-closed, so a slow moment can only deny, never let extra requests
through; and with a generous command timeout no request should be degraded at all, so
the count is exact.
"""

from __future__ import annotations

import multiprocessing
import threading

import pytest
import redis
from tests.integration.ratelimit._workers import hammer_into

from backendkit.ratelimit import RateLimiter, Rule
from backendkit.ratelimit._redis import storage_key
from backendkit.redis import RedisConfig

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


def _server_ms(raw: redis.Redis) -> int:
    seconds, micros = raw.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _one_window(before: int, after: int, windows_ms: tuple[int, ...]) -> bool:
    """True when ``before`` and ``after`` fall in the same aligned window of every length.

    Fixed and sliding-window-counter windows are aligned to the clock, so a trial that
    straddles a boundary legitimately allows a second batch; such a trial is run again
    on a fresh key rather than asserted (two straddles in a row would need a trial of
    half a minute).
    """
    return all(before // window == after // window for window in windows_ms)


def _threads_trial(
    limiter: RateLimiter, rule: Rule, identity: str, threads: int, per_thread: int
) -> list[tuple[int, int]]:
    barrier = threading.Barrier(threads)
    counts: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        allowed = degraded = 0
        for _ in range(per_thread):
            result = limiter.hit(rule, identity)
            allowed += result.allowed
            degraded += result.degraded
        with lock:
            counts.append((allowed, degraded))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counts


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_threads_get_exactly_n(redis_url: str, redis_prefix: str, strategy: str) -> None:
    """16 threads x 15 hits on one key with limit 50 (and 100/hour): exactly 50 allowed."""
    limiter = RateLimiter(
        RedisConfig(redis_url, command_timeout=10.0),
        key_prefix=redis_prefix,
        failure_policy="fail_closed",
    )
    rule = Rule("exact", "50/minute;100/hour", strategy=strategy)  # type: ignore[arg-type]
    raw = redis.Redis.from_url(redis_url)
    for attempt in range(3):
        identity = f"shared-{attempt}"
        before = _server_ms(raw)
        counts = _threads_trial(limiter, rule, identity, threads=16, per_thread=15)
        if strategy == "moving-window" or _one_window(before, _server_ms(raw), (60_000, 3_600_000)):
            break
    assert sum(d for _, d in counts) == 0
    assert sum(a for a, _ in counts) == 50
    # Nothing denied was charged: the per-hour limit saw exactly the 50 allowed.
    key = storage_key(redis_prefix, rule, identity)
    if strategy == "moving-window":
        assert raw.llen(key) == 50
    else:
        assert raw.hget(key, "100:3600000:c") == b"50"
    raw.close()
    limiter.close()


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["moving-window", "sliding-window-counter"])
def test_processes_get_exactly_n(redis_url: str, redis_prefix: str, strategy: str) -> None:
    """4 spawned processes x 30 hits on one key with limit 45: exactly 45 allowed."""
    context = multiprocessing.get_context("spawn")
    processes = 4
    raw = redis.Redis.from_url(redis_url)
    for attempt in range(3):
        barrier = context.Barrier(processes)
        queue = context.Queue()
        args = (redis_url, redis_prefix, "45/minute", strategy, 30, barrier, f"shared-{attempt}")
        workers = [
            context.Process(target=hammer_into, args=(queue, *args)) for _ in range(processes)
        ]
        before = _server_ms(raw)
        for worker in workers:
            worker.start()
        results = [queue.get(timeout=50) for _ in workers]
        for worker in workers:
            worker.join(timeout=10)
        if strategy == "moving-window" or _one_window(before, _server_ms(raw), (60_000,)):
            break
    raw.close()
    assert all(isinstance(result, tuple) for result in results), results
    assert sum(degraded for _, degraded in results) == 0
    assert sum(allowed for allowed, _ in results) == 45
