"""Where API keys live: the store interface and the in-memory store.

A store keeps [`ApiKeyRecord`][backendkit.auth.ApiKeyRecord]s by their public id and
answers five questions; the [`ApiKeyService`][backendkit.auth.ApiKeyService] makes every
decision and passes ``now`` from its clock. Write your own backend by implementing
[`ApiKeyStore`][backendkit.auth.ApiKeyStore] and/or
[`AsyncApiKeyStore`][backendkit.auth.AsyncApiKeyStore]; the SQLAlchemy stores are in
``backendkit.auth.sql``, the Django ORM one in ``backendkit.adapters.django.apikeys``.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Protocol, runtime_checkable

from backendkit.auth._api_key_core import ApiKey, ApiKeyRecord

__all__ = ["ApiKeyStore", "AsyncApiKeyStore", "MemoryApiKeyStore"]


@runtime_checkable
class ApiKeyStore(Protocol):
    """A synchronous API-key store."""

    def add(self, record: ApiKeyRecord) -> None:
        """Keep a new key."""

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this public id (revoked or not), or ``None``."""

    def list_for(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked, oldest first."""

    def revoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Mark the user's key revoked at ``now``; ``False`` when the user has no such
        key that is not revoked already."""

    def touch(self, key_id: str, now: float, before: float) -> None:
        """Set ``last_used_at`` to ``now`` unless it is already at or after ``before``
        (one conditional write, so concurrent uses write at most once)."""


@runtime_checkable
class AsyncApiKeyStore(Protocol):
    """An asynchronous API-key store (the methods of ``ApiKeyStore``, ``a``-prefixed)."""

    async def aadd(self, record: ApiKeyRecord) -> None:
        """Keep a new key."""

    async def aget(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this public id (revoked or not), or ``None``."""

    async def alist_for(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked, oldest first."""

    async def arevoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Mark the user's key revoked at ``now`` (see ``ApiKeyStore.revoke``)."""

    async def atouch(self, key_id: str, now: float, before: float) -> None:
        """Set ``last_used_at`` to ``now`` unless it is at or after ``before``."""


class MemoryApiKeyStore:
    """The embedded store: one process only, thread-safe, sync and async (for tests and
    development; keys are lost on restart). The async methods do no I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ApiKeyRecord] = {}
        #: Writes of ``last_used_at`` so far (tests read it to see the throttle work).
        self.touches = 0

    def __len__(self) -> int:
        """Number of keys kept, revoked ones included."""
        with self._lock:
            return len(self._records)

    def add(self, record: ApiKeyRecord) -> None:
        """Keep a new key."""
        with self._lock:
            self._records[record.key.id] = record

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this public id, or ``None``."""
        with self._lock:
            return self._records.get(key_id)

    def list_for(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked, oldest first."""
        with self._lock:
            keys = [r.key for r in self._records.values() if r.key.user_id == user_id]
        return sorted(
            (key for key in keys if key.revoked_at is None), key=lambda k: (k.created_at, k.id)
        )

    def revoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Mark the user's key revoked; ``False`` when there is no such live key."""
        with self._lock:
            record = self._records.get(key_id)
            if record is None or record.key.user_id != user_id or record.key.revoked_at:
                return False
            self._records[key_id] = _replace(record, revoked_at=now)
            return True

    def touch(self, key_id: str, now: float, before: float) -> None:
        """Set ``last_used_at`` to ``now`` unless it is at or after ``before``."""
        with self._lock:
            record = self._records.get(key_id)
            last = None if record is None else record.key.last_used_at
            if record is not None and (last is None or last < before):
                self._records[key_id] = _replace(record, last_used_at=now)
                self.touches += 1

    async def aadd(self, record: ApiKeyRecord) -> None:
        """Async twin of ``add``."""
        self.add(record)

    async def aget(self, key_id: str) -> ApiKeyRecord | None:
        """Async twin of ``get``."""
        return self.get(key_id)

    async def alist_for(self, user_id: str) -> list[ApiKey]:
        """Async twin of ``list_for``."""
        return self.list_for(user_id)

    async def arevoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Async twin of ``revoke``."""
        return self.revoke(key_id, user_id, now)

    async def atouch(self, key_id: str, now: float, before: float) -> None:
        """Async twin of ``touch``."""
        self.touch(key_id, now, before)


def _replace(record: ApiKeyRecord, **changes: Any) -> ApiKeyRecord:
    return dataclasses.replace(record, key=dataclasses.replace(record.key, **changes))
