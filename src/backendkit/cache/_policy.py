"""Per-decorator storage policy: TTLs with jitter, ``None`` caching, conditions, size cap."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from backendkit.errors import ConfigurationError

__all__ = ["Policy", "Seconds", "seconds"]

#: A duration: seconds as a number, or a ``timedelta``.
Seconds = float | int | timedelta


def seconds(value: Seconds, what: str, *, allow_zero: bool = False) -> float:
    """Convert a duration to seconds, refusing negative, infinite or (unless allowed) zero."""
    result = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise ConfigurationError(f"{what} must be a number of seconds or a timedelta")
    result = float(result)
    if not math.isfinite(result) or result < 0 or (result == 0 and not allow_zero):
        limit = "non-negative" if allow_zero else "positive"
        raise ConfigurationError(f"{what} must be a finite, {limit} duration, got {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class Policy:
    """How long entries live and which values are stored; shared by sync and async calls.

    Attributes:
        ttl: Seconds an entry stays fresh.
        jitter: Fraction in ``[0, 1)``: each stored TTL is drawn uniformly from
            ``[ttl * (1 - jitter), ttl]``, so entries written together expire apart and
            never outlive ``ttl``.
        stale_ttl: Seconds an entry is kept past its TTL to be served stale while one
            caller refreshes it (0 disables stale serving).
        early_recompute: XFetch ``beta``: 0 disables probabilistic early recomputation;
            1 is the paper's optimum; above 1 refreshes earlier.
        cache_none: Whether a ``None`` result is stored.
        none_ttl: TTL of a stored ``None`` (a negative-cache entry); ``ttl`` if unset.
        condition: Called with each loaded value; the value is stored only if it returns
            true.
        max_value_bytes: Encoded values larger than this are not stored.
        lock_ttl: Seconds the cross-process load lock lives (a crashed holder frees it).
        lock_wait: Seconds another process waits for the holder before loading itself.
    """

    ttl: float
    jitter: float = 0.0
    stale_ttl: float = 0.0
    early_recompute: float = 1.0
    cache_none: bool = False
    none_ttl: float | None = None
    condition: Callable[[Any], bool] | None = None
    max_value_bytes: int = 1_048_576
    lock_ttl: float = 5.0
    lock_wait: float = 5.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.jitter < 1.0:
            raise ConfigurationError(f"jitter must be in [0, 1), got {self.jitter!r}")
        if not (math.isfinite(self.early_recompute) and self.early_recompute >= 0):
            raise ConfigurationError("early_recompute must be a finite number >= 0")
        if isinstance(self.max_value_bytes, bool) or self.max_value_bytes < 1:
            raise ConfigurationError("max_value_bytes must be a positive integer")

    def fresh_ttl(self, is_none: bool, rng: random.Random) -> float:
        """The TTL for one stored value, jitter applied."""
        base = self.none_ttl if is_none and self.none_ttl is not None else self.ttl
        if self.jitter:
            return base * (1.0 - self.jitter * rng.random())
        return base

    def lock_px(self) -> int:
        """Lock lifetime in milliseconds."""
        return max(1, round(self.lock_ttl * 1000))
