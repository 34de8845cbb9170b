"""Event-loop lag while 16 password verifications run concurrently.

A ticker coroutine sleeps 1 ms in a loop and records how late each wake-up is. Meanwhile
16 verifications of the same (correct) password run concurrently, either:

- ``backendkit``: ``await hasher.averify(...)`` (bcrypt in the hasher's bounded thread
  pool; bcrypt releases the GIL, so the loop keeps ticking), or
- ``direct``: ``bcrypt.checkpw(...)`` called inside a coroutine, the usual mistake: every
  call blocks the loop for its whole duration.

Both must return 16 x True before their timings count. Reported per side: p50/p99/max lag
in milliseconds, wall time for the 16 verifications, and the ratio of p99 lags
(direct / backendkit: how many times worse blocking is).

    python benchmarks/bench_passwords.py [--quick] [--json out.json] [--cost N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import bcrypt

from backendkit.testing import TestingPasswordHasher

CONCURRENCY = 16
TICK = 0.001
PASSWORD = "correct horse battery staple"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(verify: Callable[[], Awaitable[bool]]) -> dict[str, Any]:
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            start = loop.time()
            await asyncio.sleep(TICK)
            lags.append(max(0.0, loop.time() - start - TICK))

    tick_task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # let the ticker settle before the load starts
    lags.clear()
    started = time.perf_counter()
    results = await asyncio.gather(*(verify() for _ in range(CONCURRENCY)))
    wall = time.perf_counter() - started
    done.set()
    await tick_task
    if results != [True] * CONCURRENCY:
        raise SystemExit("a verification of the correct password failed")
    ms = [lag * 1000 for lag in lags] or [0.0]
    return {
        "ticks": len(ms),
        "lag_p50_ms": round(statistics.median(ms), 3),
        "lag_p99_ms": round(_percentile(ms, 0.99), 3),
        "lag_max_ms": round(max(ms), 3),
        "wall_s": round(wall, 3),
    }


async def run(cost: int, rounds: int) -> dict[str, Any]:
    # The testing hasher runs the production code paths at any cost (allowed here).
    hasher = TestingPasswordHasher(allow=True, cost=cost)
    stored = hasher.hash(PASSWORD)
    stored_bytes = stored.encode()

    async def ours() -> bool:
        return await hasher.averify(PASSWORD, stored)

    async def direct() -> bool:
        return bcrypt.checkpw(PASSWORD.encode(), stored_bytes)

    if not (await ours() and await direct()):
        raise SystemExit("a verification of the correct password failed")
    best: dict[str, dict[str, Any]] = {}
    for _ in range(rounds):
        for name, fn in (("backendkit", ours), ("direct", direct)):
            row = await _measure(fn)
            if name not in best or row["lag_p99_ms"] < best[name]["lag_p99_ms"]:
                best[name] = row
    hasher.close()
    ratio = best["direct"]["lag_p99_ms"] / max(best["backendkit"]["lag_p99_ms"], 1e-3)
    return {
        "cost": cost,
        "concurrency": CONCURRENCY,
        **best,
        "p99_ratio_direct_over_ours": round(ratio, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="cost 10, one round")
    parser.add_argument("--cost", type=int, default=None, help="bcrypt cost (default 12)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args(argv)
    cost = args.cost or (10 if args.quick else 12)
    rounds = 1 if args.quick else 3
    result = asyncio.run(run(cost, rounds))
    workers = min(4, os.cpu_count() or 1)
    print(f"bcrypt cost {cost}, {CONCURRENCY} concurrent verifications, pool of {workers}")
    print(f"{'':11} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'ticks':>6} {'wall s':>7}")
    for name in ("backendkit", "direct"):
        row = result[name]
        print(
            f"{name:11} {row['lag_p50_ms']:>8.2f} {row['lag_p99_ms']:>8.2f} "
            f"{row['lag_max_ms']:>8.2f} {row['ticks']:>6} {row['wall_s']:>7.2f}"
        )
    print(f"p99 lag, direct / backendkit: {result['p99_ratio_direct_over_ours']}x")
    if args.json:
        meta = {"python": platform.python_version(), "bcrypt": bcrypt.__version__}
        args.json.write_text(json.dumps({"meta": meta, "result": result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
