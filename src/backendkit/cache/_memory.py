"""The in-process backend: a bounded LRU of encoded entries with TTLs on an injected clock.

Entries are kept encoded (the same bytes Redis would hold), so the memory and Redis
backends make the same decisions and a caller can never mutate a cached object in place.
One process only: cross-process locking does not apply, and in-process single-flight
already gives one load per key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from backendkit.cache._keys import EntryKeys
from backendkit.cache._ops import (
    Acquire,
    AcquireReply,
    Bump,
    Delete,
    Op,
    Release,
    Store,
    TryLock,
    Wait,
)
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError

__all__ = ["MemoryBackend"]


def _fresh(raw: bytes, gen: bytes, now_ms: int) -> bool:
    # The same test as the ACQUIRE script: current generation and not yet expired.
    parts = raw.split(b"|", 3)
    return len(parts) == 4 and parts[1] == gen and parts[2].isdigit() and int(parts[2]) > now_ms


class MemoryBackend:
    """Bounded LRU (by number of entries) honouring TTLs read from ``clock.now()``.

    Namespace generations live in the same LRU; one that is evicted simply invalidates its
    namespace (exactly what an evicted generation key does on Redis).

    Args:
        max_entries: Entries kept before the least recently used is evicted.
        clock: Time source for expiry.
    """

    def __init__(self, max_entries: int = 10_000, *, clock: Clock = system_clock) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive integer")
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (value, expires_at or None)
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def _get(self, key: str, now: float) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires_at = item
        if expires_at is not None and now >= expires_at:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    def _put(self, key: str, value: bytes, expires_at: float | None) -> None:
        self._data[key] = (value, expires_at)
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def run(self, op: Op) -> Any:
        """Perform one backend operation (the flow's ops; see ``_flow``)."""
        now = self._clock.now()
        with self._lock:
            if type(op) is Acquire:
                gen = self._get(op.keys.namespace, now)
                if gen is None:
                    gen = op.new_gen
                    self._put(op.keys.namespace, gen, None)
                entry = self._get(op.keys.entry, now)
                if entry is not None and _fresh(entry, gen, op.now_ms):
                    return AcquireReply("hit", gen, entry)
                # Single-flight already made this caller the only loader in the process.
                return AcquireReply("lock", gen)
            if type(op) is Store:
                self._put(op.keys.entry, op.raw, now + op.px / 1000.0)
                return None
            if type(op) is Delete:
                return self._data.pop(op.key, None) is not None
            if type(op) is Bump:
                self._put(op.key, op.gen, None)
                return None
            if type(op) is TryLock:
                return True
            if type(op) is Release:
                return None
            if type(op) is Wait:  # pragma: no cover - Acquire never asks a memory caller to wait
                return None
        raise TypeError(f"unknown cache operation {op!r}")  # pragma: no cover

    def read(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """The namespace generation and the entry, ``(gen, raw)``."""
        now = self._clock.now()
        with self._lock:
            return self._get(keys.namespace, now), self._get(keys.entry, now)

    async def aread(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """Async twin of `read` (no I/O: the same call)."""
        return self.read(keys)

    def fetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """A cached call's read: what the ``FETCH`` script decides, in process.

        The caller is the only loader of the key in this process (single-flight), so it
        always gets the lock; ``lock_px`` has nothing to bound here.
        """
        now = self._clock.now()
        with self._lock:
            gen = self._get(keys.namespace, now)
            if gen is None:
                gen = token
                self._put(keys.namespace, gen, None)
            else:
                entry = self._get(keys.entry, now)
                if entry is not None and entry.startswith(b"1|%s|" % gen):
                    return entry
            return AcquireReply("lock", gen)

    async def afetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """Async twin of `fetch` (no I/O: the same call)."""
        return self.fetch(keys, token, lock_px)

    async def arun(self, op: Op) -> Any:
        """Async twin of `run` (no I/O: the same call)."""
        return self.run(op)

    def clear(self) -> None:
        """Drop every entry and namespace generation."""
        with self._lock:
            self._data.clear()

    def close(self) -> None:
        """Nothing to close (present so every backend can be closed alike)."""

    async def aclose(self) -> None:
        """Nothing to close."""
