"""What a cached call tells its caller besides the value: where it came from, and outages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

__all__ = ["CacheResult", "Outcome"]

T = TypeVar("T")


class Outcome(str, Enum):
    """Where a cached call's value came from."""

    HIT = "hit"
    """A fresh entry was read from the cache."""
    STALE = "stale"
    """A stale entry was served while another caller refreshed it (``stale_ttl``)."""
    LOADED = "loaded"
    """This call ran the loader (a miss, an early refresh, or the backend was down)."""
    SHARED = "shared"
    """Another caller's load answered this call (same process, or another process that
    held the load lock)."""


@dataclass(frozen=True, slots=True)
class CacheResult(Generic[T]):
    """A cached call's value plus how it was obtained.

    Returned by ``call_detailed()`` on a cached function. ``degraded`` is what tells an
    outage from a miss: both run the loader, but only an outage sets it.

    Attributes:
        value: What the function returned (or the cached copy of it).
        outcome: Where the value came from.
        degraded: True when the cache backend was unavailable during this call, so the
            value was loaded (or not stored) without it.
    """

    value: T
    outcome: Outcome
    degraded: bool = False
