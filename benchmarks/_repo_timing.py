"""Timing helpers of the repository benchmark: medians of repeated calls, sync and async.

The interleaved forms run every contender once per round, so drift (CPU frequency, other
load) hits all alike; the async twin does the same inside one event loop.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

_MAX_ROUNDS = 200


def measure(fn: Callable[[], Any], *, min_time: float = 0.25, min_runs: int = 5) -> float:
    """Median seconds per call after a short warm-up."""
    for _ in range(2):
        fn()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < min_runs or (
        time.perf_counter() - started < min_time and len(samples) < 300
    ):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def _more(rounds: int, started: float, min_time: float, min_runs: int) -> bool:
    elapsed = time.perf_counter() - started
    return rounds < min_runs or (elapsed < min_time and rounds < _MAX_ROUNDS)


def measure_interleaved(
    fns: dict[str, Callable[[], Any]], *, min_time: float = 0.3, min_runs: int = 3
) -> dict[str, float]:
    """Median seconds per call of each function, run in turns so drift hits all alike."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    started, rounds = time.perf_counter(), 0
    while _more(rounds, started, min_time, min_runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
        rounds += 1
    return {name: statistics.median(values) for name, values in samples.items()}


async def ameasure_interleaved(
    fns: dict[str, Callable[[], Awaitable[Any]]], *, min_time: float = 0.3, min_runs: int = 3
) -> dict[str, float]:
    """``measure_interleaved`` for coroutine functions, awaited in one event loop."""
    for fn in fns.values():
        await fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    started, rounds = time.perf_counter(), 0
    while _more(rounds, started, min_time, min_runs):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            await fn()
            samples[name].append(time.perf_counter() - t0)
        rounds += 1
    return {name: statistics.median(values) for name, values in samples.items()}


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded for the report."""
    return round(seconds * 1000, 4)
