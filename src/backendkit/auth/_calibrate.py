"""Pick a bcrypt cost for this machine."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from backendkit._extras import require
from backendkit.errors import ConfigurationError

require("bcrypt", "auth")

import bcrypt

__all__ = ["calibrate"]


def calibrate(
    target_ms: float = 250.0,
    *,
    min_cost: int = 10,
    max_cost: int = 20,
    samples: int = 3,
    timer: Callable[[], float] = time.perf_counter,
) -> int:
    """Return the highest bcrypt cost whose hash takes at most ``target_ms`` here.

    Times ``samples`` hashes at ``min_cost`` (the median counts) and doubles from there,
    since each cost step doubles the work. Run it on production hardware, once, and put
    the result in your configuration; the result is never below ``min_cost``.

    Args:
        target_ms: the time one hash (and so one login) may take, in milliseconds.
        min_cost: the lowest cost to return (and the one measured).
        max_cost: the highest cost to return.
        samples: how many hashes to time.
        timer: seconds, monotonic; injectable for tests.

    Raises:
        ConfigurationError: invalid arguments.

    Example:
        ```python
        cost = calibrate(250)      # e.g. 12 on a typical server core
        hasher = PasswordHasher(cost=cost)
        ```
    """
    if not 4 <= min_cost <= max_cost <= 31:
        raise ConfigurationError("calibrate needs 4 <= min_cost <= max_cost <= 31")
    if not target_ms > 0 or samples < 1:
        raise ConfigurationError("calibrate needs target_ms > 0 and samples >= 1")
    timings = []
    for _ in range(samples):
        salt = bcrypt.gensalt(rounds=min_cost, prefix=b"2b")
        start = timer()
        bcrypt.hashpw(b"backendkit-calibration", salt)
        timings.append((timer() - start) * 1000.0)
    estimate = max(statistics.median(timings), 1e-6)
    cost = min_cost
    while cost < max_cost and estimate * 2 <= target_ms:
        cost += 1
        estimate *= 2
    return cost
