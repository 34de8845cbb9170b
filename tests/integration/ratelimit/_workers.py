"""Worker functions for the multi-process test (importable by spawned children)."""

from __future__ import annotations

import multiprocessing.queues
import multiprocessing.synchronize
from typing import Any


def hammer(
    url: str,
    prefix: str,
    limits: str,
    strategy: str,
    hits: int,
    start: multiprocessing.synchronize.Barrier,
    identity: str,
) -> tuple[int, int]:
    """Hit one key ``hits`` times after every process is ready; return (allowed, degraded)."""
    from backendkit.ratelimit import RateLimiter, Rule
    from backendkit.redis import RedisConfig

    limiter = RateLimiter(
        RedisConfig(url, command_timeout=10.0, connect_timeout=5.0),
        key_prefix=prefix,
        failure_policy="fail_closed",
    )
    rule = Rule("exact", limits, strategy=strategy)  # type: ignore[arg-type]
    limiter.peek(rule, "other")  # connect before the start line
    start.wait()
    allowed = degraded = 0
    for _ in range(hits):
        result = limiter.hit(rule, identity)
        allowed += result.allowed
        degraded += result.degraded
    limiter.close()
    return allowed, degraded


def hammer_into(queue: multiprocessing.queues.Queue[Any], *args: Any) -> None:
    """Run ``hammer`` and put its result (or the error text) on ``queue``."""
    try:
        queue.put(hammer(*args))
    except BaseException as exc:  # reported to the parent, which fails the test
        queue.put(repr(exc))
