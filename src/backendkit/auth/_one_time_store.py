"""Where one-time tokens live: the store interface and the in-memory store.

A store keeps [`OneTimeToken`][backendkit.auth.OneTimeToken] records under the token's
digest and answers three requests; the
[`OneTimeTokens`][backendkit.auth.OneTimeTokens] service makes every decision (expiry,
purpose, rate limits). ``take`` is the one that matters: it removes and returns a record
in one atomic step, so of any number of concurrent consumers exactly one gets it. The
Redis store is ``RedisOneTimeTokenStore``; the SQLAlchemy one is in
``backendkit.auth.sql``.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from backendkit.auth._one_time_core import OneTimeToken

__all__ = ["AsyncOneTimeTokenStore", "MemoryOneTimeTokenStore", "OneTimeTokenStore"]


@runtime_checkable
class OneTimeTokenStore(Protocol):
    """A synchronous one-time token store."""

    def add(self, digest: str, record: OneTimeToken) -> None:
        """Keep a new token's record under its digest (until ``record.expires_at``)."""

    def take(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Atomically remove and return the record under the first of ``digests`` that
        has one; ``None`` when none has (never used, used already, or invalidated)."""

    def invalidate(self, user_id: str, purpose: str) -> int:
        """Remove every outstanding token of ``user_id`` for ``purpose``; how many."""


@runtime_checkable
class AsyncOneTimeTokenStore(Protocol):
    """An asynchronous one-time token store (the methods of ``OneTimeTokenStore``,
    ``a``-prefixed)."""

    async def aadd(self, digest: str, record: OneTimeToken) -> None:
        """Keep a new token's record under its digest."""

    async def atake(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Atomically remove and return the first record found (see ``take``)."""

    async def ainvalidate(self, user_id: str, purpose: str) -> int:
        """Remove every outstanding token of ``user_id`` for ``purpose``; how many."""


class MemoryOneTimeTokenStore:
    """The embedded store: one process only, thread-safe, sync and async (tests and
    development; tokens are lost on restart). The async methods do no I/O.

    Expired records are dropped whenever a token is added (the soonest to expire first,
    from a heap), so the store stays as large as the tokens still alive.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, OneTimeToken] = {}
        self._expiries: list[tuple[float, str]] = []

    def __len__(self) -> int:
        """Number of records kept."""
        with self._lock:
            return len(self._records)

    def add(self, digest: str, record: OneTimeToken) -> None:
        """Keep a new token's record; drop the records that expired by its issue time."""
        with self._lock:
            while self._expiries and self._expiries[0][0] <= record.issued_at:
                _, old = heapq.heappop(self._expiries)
                self._records.pop(old, None)  # consumed or invalidated already: gone
            self._records[digest] = record
            heapq.heappush(self._expiries, (record.expires_at, digest))

    def take(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Remove and return the first record found, or ``None``."""
        with self._lock:
            for digest in digests:
                record = self._records.pop(digest, None)
                if record is not None:
                    return record
        return None

    def invalidate(self, user_id: str, purpose: str) -> int:
        """Remove the user's outstanding tokens for ``purpose``."""
        with self._lock:
            gone = [
                d for d, r in self._records.items() if r.user_id == user_id and r.purpose == purpose
            ]
            for digest in gone:
                del self._records[digest]
        return len(gone)

    async def aadd(self, digest: str, record: OneTimeToken) -> None:
        """Async twin of ``add``."""
        self.add(digest, record)

    async def atake(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Async twin of ``take``."""
        return self.take(digests)

    async def ainvalidate(self, user_id: str, purpose: str) -> int:
        """Async twin of ``invalidate``."""
        return self.invalidate(user_id, purpose)
