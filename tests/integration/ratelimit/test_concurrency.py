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


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_threads_get_exactly_n(redis_url: str, redis_prefix: str, strategy: str) -> None:
    """16 threads x 15 hits on one key with limit 50 (and 100/hour): exactly 50 allowed."""
    limiter = RateLimiter(
        RedisConfig(redis_url, command_timeout=10.0),
        key_prefix=redis_prefix,
        failure_policy="fail_closed",
    )
    rule = Rule("exact", "50/minute;100/hour", strategy=strategy)  # type: ignore[arg-type]
    threads, per_thread = 16, 15
    barrier = threading.Barrier(threads)
    counts: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        allowed = degraded = 0
        for _ in range(per_thread):
            result = limiter.hit(rule, "shared")
            allowed += result.allowed
            degraded += result.degraded
        with lock:
            counts.append((allowed, degraded))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert sum(d for _, d in counts) == 0
    assert sum(a for a, _ in counts) == 50
    # Nothing denied was charged: the per-hour limit saw exactly the 50 allowed.
    raw = redis.Redis.from_url(redis_url)
    key = storage_key(redis_prefix, rule, "shared")
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
    barrier = context.Barrier(processes)
    queue = context.Queue()
    args = (redis_url, redis_prefix, "45/minute", strategy, 30, barrier)
    workers = [context.Process(target=hammer_into, args=(queue, *args)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=50) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
    assert all(isinstance(result, tuple) for result in results), results
    assert sum(degraded for _, degraded in results) == 0
    assert sum(allowed for allowed, _ in results) == 45
