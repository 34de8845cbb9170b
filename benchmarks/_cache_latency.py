"""Hit latency under concurrency, for bench_cache.py: p50 and p99 of every call.

Concurrent callers of one key share one read in backendkit (the first caller's read
answers the callers that arrive while it is in flight), so a hit can wait for another
caller's read; this measures what that does to the tail. Each round runs ``callers``
concurrent callers (asyncio tasks, or threads) that each make ``calls`` hits in a row,
against backendkit and against a raw redis-py GET + ``validate_json`` of the same bytes,
interleaved round by round; every call's latency is kept.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from _cache_peers import PAYLOADS, TYPES

__all__ = ["bench_hit_latency"]

CALLERS = {"async": 50, "sync": 8}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(mode: str, keys: int, ours: list[float], raw: list[float]) -> dict[str, Any]:
    def us(seconds: float) -> float:
        return round(seconds * 1e6, 1)

    return {
        "mode": mode,
        "callers": CALLERS[mode],
        "keys": keys,
        "calls": len(ours),
        "backendkit_p50_us": us(statistics.median(ours)),
        "backendkit_p99_us": us(_pct(ours, 0.99)),
        "raw_p50_us": us(statistics.median(raw)),
        "raw_p99_us": us(_pct(raw, 0.99)),
    }


def bench_hit_latency(url: str, quick: bool) -> list[dict[str, Any]]:
    """One row per mode (async tasks, sync threads) and key spread (1 hot key, 1 per caller)."""
    import redis
    from pydantic import TypeAdapter

    from backendkit.cache import Cache

    rounds, calls = (3, 40) if quick else (9, 100)
    prefix = f"bkbench:{uuid.uuid4().hex[:10]}:"
    payload = PAYLOADS["small"](1)
    adapter: TypeAdapter[Any] = TypeAdapter(TYPES["small"])
    client = redis.Redis.from_url(url)
    spread = max(CALLERS.values())
    for i in range(spread):
        client.set(f"{prefix}raw:{i}", adapter.dump_json(payload))
    cache = Cache(url, key_prefix=prefix)

    @cache.cached(ttl=300, namespace="lat", returns=TYPES["small"])
    def hit(i: int) -> Any:
        return payload

    @cache.cached(ttl=300, namespace="alat", returns=TYPES["small"])
    async def ahit(i: int) -> Any:
        return payload

    rows: list[dict[str, Any]] = []
    try:
        for i in range(spread):
            hit(i)
            hit(i)  # the second read finds it fresh: later reads are plain ones
        for keys in (1, CALLERS["sync"]):
            ours, raw = _sync_rounds(client, adapter, prefix, hit, keys, rounds, calls)
            rows.append(_row("sync", keys, ours, raw))
        rows += asyncio.run(_async_rows(url, adapter, prefix, cache, ahit, rounds, calls))
    finally:
        cache.close()
        keys_left = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys_left:
            client.delete(*keys_left)
        client.close()
    return rows


def _sync_rounds(
    client: Any,
    adapter: Any,
    prefix: str,
    hit: Callable[[int], Any],
    keys: int,
    rounds: int,
    calls: int,
) -> tuple[list[float], list[float]]:
    callers = CALLERS["sync"]

    def run(call: Callable[[int], Any]) -> list[float]:
        start = threading.Barrier(callers)
        latencies: list[list[float]] = [[] for _ in range(callers)]

        def worker(n: int) -> None:
            own = latencies[n]
            start.wait()
            for _ in range(calls):
                t = time.perf_counter()
                call(n % keys)
                own.append(time.perf_counter() - t)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [x for own in latencies for x in own]

    def raw_call(i: int) -> Any:
        return adapter.validate_json(client.get(f"{prefix}raw:{i}"))

    ours: list[float] = []
    raw: list[float] = []
    for _ in range(rounds):
        ours += run(hit)
        raw += run(raw_call)
    return ours, raw


async def _async_rows(
    url: str,
    adapter: Any,
    prefix: str,
    cache: Any,
    ahit: Callable[[int], Awaitable[Any]],
    rounds: int,
    calls: int,
) -> list[dict[str, Any]]:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    callers = CALLERS["async"]
    for i in range(callers):
        await ahit(i)
        await ahit(i)

    async def raw_call(i: int) -> Any:
        return adapter.validate_json(await client.get(f"{prefix}raw:{i}"))

    async def run(call: Callable[[int], Awaitable[Any]], keys: int) -> list[float]:
        go = asyncio.Event()

        async def worker(n: int) -> list[float]:
            own = []
            await go.wait()
            for _ in range(calls):
                t = time.perf_counter()
                await call(n % keys)
                own.append(time.perf_counter() - t)
            return own

        tasks = [asyncio.create_task(worker(n)) for n in range(callers)]
        await asyncio.sleep(0)
        go.set()
        return [x for own in await asyncio.gather(*tasks) for x in own]

    rows = []
    for keys in (1, callers):
        ours: list[float] = []
        raw: list[float] = []
        for _ in range(rounds):
            ours += await run(ahit, keys)
            raw += await run(raw_call, keys)
        rows.append(_row("async", keys, ours, raw))
    await client.aclose()
    await cache.aclose()
    return rows
