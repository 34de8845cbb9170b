"""The in-process L1: entries read from Redis, served without a round trip while Redis
guarantees to say when they change.

A cache built with ``local_cache=LocalCache(...)`` keeps the entries its cached functions
read fresh in a bounded dict of this process, and serves the next call of the same key
from it: no network, no lock, no flight -- a dict lookup and the payload's decode. It is
coherent because Redis tells this process about every change of a key under the cache's
prefix (server-assisted client-side caching, ``CLIENT TRACKING ... BCAST``, see
``_tracking.py``): a write, delete, expiry or eviction of an entry drops it here, a
namespace bump (a write of its generation key) or a ``FLUSHDB`` drops everything.

The L1 serves only while the tracking connection is up: it starts empty and inactive,
becomes active once tracking is on, and is emptied and inactive again the moment the
connection is lost, so no entry is served whose invalidation could have been missed.

An invalidation can overtake a read in flight: Redis answered with the old entry, then the
key changed and the tracking thread dropped the key before the reader inserted it. Each
reader takes a ``token`` (the invalidation counter) before it reads and may insert only if
neither its key nor the whole L1 was invalidated since; otherwise the stale entry would
live here until the next change.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from backendkit.cache._early import Freshness, classify
from backendkit.cache._serde import DecodeError, Entry
from backendkit.errors import ConfigurationError

__all__ = ["L1", "MISS", "LocalCache", "serve"]

#: What `serve` returns when the L1 cannot answer (the call goes on to Redis).
MISS: Any = object()

# Generation keys are ``<prefix>{<namespace>}:gen`` (`_keys.namespace_key`); entry keys
# of a namespace carry ``:v<version>:`` after the brace, so only a generation ends so.
_GEN_SUFFIX = "}:gen"


@dataclass(frozen=True)
class LocalCache:
    """Options of the in-process L1 of a Redis cache (``Cache(..., local_cache=...)``).

    Args:
        max_entries: Entries kept in this process; when full, the oldest inserted goes.
        heartbeat: Seconds of silence after which the tracking connection is probed
            with ``PING``; a connection lost without a word (a network partition) is
            noticed within about this long plus the command timeout, and the L1 is
            emptied then.

    Raises:
        ConfigurationError: ``max_entries`` is not a positive integer, or ``heartbeat``
            is not a positive number.
    """

    max_entries: int = 10_000
    heartbeat: float = 1.0

    def __post_init__(self) -> None:
        entries = self.max_entries
        if not isinstance(entries, int) or isinstance(entries, bool) or entries < 1:
            raise ConfigurationError(
                f"LocalCache.max_entries must be a positive integer, got {entries!r}"
            )
        beat = self.heartbeat
        if (
            not isinstance(beat, int | float)
            or isinstance(beat, bool)
            or not math.isfinite(beat)
            or beat <= 0
        ):
            raise ConfigurationError(
                f"LocalCache.heartbeat must be a positive number of seconds, got {beat!r}"
            )


class L1:
    """The entries of one cache in this process, and what keeps them coherent.

    ``wake`` is called while the L1 is inactive (on a lookup): it starts the tracking
    thread if none runs in this process. The tracking thread calls `enable`, `disable`
    and `invalidate`.
    """

    def __init__(self, options: LocalCache, wake: Callable[[], None]) -> None:
        self._max = options.max_entries
        self._wake = wake
        self._entries: dict[str, Entry] = {}
        # Guards the invalidation counters and every write of the dict; lookups are
        # plain dict reads (atomic under the GIL).
        self._lock = threading.Lock()
        self._seq = 0
        self._flushed = 0
        self._touched: dict[str, int] = {}
        #: True while tracking is on: only then is anything served or inserted.
        self.active = False
        _INSTANCES.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: str) -> Entry | None:
        """The entry held for ``key``, or ``None`` (and the tracker woken if inactive)."""
        if self.active:
            return self._entries.get(key)
        self._wake()
        return None

    def token(self) -> int:
        """The invalidation counter: take it before a read whose entry may be inserted."""
        return self._seq

    def insert(self, key: str, entry: Entry, token: int) -> None:
        """Hold ``entry`` for ``key`` unless it was invalidated since ``token`` was taken."""
        if not self.active:
            return
        with self._lock:
            if not self.active or token < self._flushed or self._touched.get(key, 0) > token:
                return
            entries = self._entries
            if key not in entries and len(entries) >= self._max:
                del entries[next(iter(entries))]
            entries[key] = entry

    def invalidate(self, keys: Iterable[str] | None) -> None:
        """Drop ``keys`` (a generation key drops all); ``None`` drops everything."""
        with self._lock:
            if keys is None:
                self._flush()
                return
            for key in keys:
                self._seq += 1
                if key.endswith(_GEN_SUFFIX):
                    self._flush()
                    continue
                self._entries.pop(key, None)
                self._touched[key] = self._seq
            if len(self._touched) > self._max:
                # Too many to remember one by one: refuse every read in flight instead.
                self._flushed = self._seq
                self._touched.clear()

    def enable(self) -> None:
        """Tracking is on: start empty (reads begun before cannot insert) and serve."""
        with self._lock:
            self._flush()
            self.active = True

    def disable(self) -> None:
        """Tracking is off or unknown: stop serving and drop everything."""
        with self._lock:
            self.active = False
            self._flush()

    def _flush(self) -> None:
        self._seq += 1
        self._flushed = self._seq
        self._touched.clear()
        self._entries.clear()

    def forked(self) -> None:
        """In a forked child: the parent's entries and tracking are not this process's."""
        # The lock may have been held by another thread of the parent at the fork.
        self._lock = threading.Lock()
        self.disable()


# Every L1 of this process, emptied in a forked child before any of its code runs.
_INSTANCES: weakref.WeakSet[L1] = weakref.WeakSet()


def _after_fork() -> None:
    for l1 in list(_INSTANCES):
        l1.forked()


os.register_at_fork(after_in_child=_after_fork)


def serve(l1: L1, key: str, plan: Any, now: float) -> Any:
    """The value of ``key`` decoded from the L1 for a cached call, or `MISS`.

    Only an entry still fresh on the cache's clock is served, and only when early
    recomputation (XFetch) does not pick this call to refresh it; the payload is decoded
    on every hit, so each caller gets its own object. ``plan`` is the function's
    ``_flow.Plan``.
    """
    entry = l1.lookup(key)
    if entry is None or now >= entry.fresh_until:
        return MISS
    if entry.delta and (
        classify(entry, now, plan.policy.early_recompute, plan.rng) is not Freshness.FRESH
    ):
        return MISS
    try:
        return plan.codec.loads(entry.payload)
    except DecodeError:
        # It decoded when it was read: only a changed type gets here; Redis decides.
        return MISS
