"""Worker processes for the cross-process stampede test (importable under ``spawn``)."""

from __future__ import annotations

import threading
from multiprocessing.synchronize import Event
from typing import Any

from backendkit.cache import Cache
from backendkit.redis import RedisConfig


def stampede_worker(
    url: str,
    prefix: str,
    threads: int,
    loads: Any,
    ready: Event,
    go: Event,
    results: Any,
) -> None:
    """Call one cold key from ``threads`` threads at once; report outcomes and loads.

    ``loads`` is a shared counter of loader runs (across processes). ``ready`` is set once
    every thread of this process is inside the cache (``threads - 1`` in-process followers
    waiting on the leader); the loader, wherever it runs, waits for ``go``.
    """
    config = RedisConfig(url, connect_timeout=5, command_timeout=5)
    cache = Cache(config, key_prefix=prefix, lock_ttl=30, lock_wait=30)

    @cache.cached(ttl=60, namespace="stampede")
    def report(day: int) -> dict[str, int]:
        with loads.get_lock():
            loads.value += 1
        assert go.wait(60)
        return {"day": day, "rows": 1234}

    key = report.key(1)
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        barrier.wait()
        result = report.call_detailed(1)
        assert result.value == {"day": 1, "rows": 1234}
        with lock:
            outcomes.append(result.outcome.value)

    workers = [threading.Thread(target=call) for _ in range(threads)]
    for t in workers:
        t.start()

    def watch() -> None:
        while cache._runtime.flights.waiters(key) < threads - 1:
            threading.Event().wait(0.002)
        ready.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for t in workers:
        t.join()
    stats = cache.stats.snapshot().as_dict()
    cache.close()
    results.put({"outcomes": outcomes, "stats": stats})
