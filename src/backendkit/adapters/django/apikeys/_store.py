"""`DjangoApiKeyStore`: API keys on the Django ORM.

Each call is one query on the configured database alias; ``touch`` is one conditional
``UPDATE``, so uses in the same minute from several workers write ``last_used_at`` once.
An unreachable database is [`BackendUnavailable`][backendkit.errors.BackendUnavailable]
(503), never a 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db.models import Q  # type: ignore[import-untyped]

from backendkit.adapters.django._db import database_available
from backendkit.adapters.django.apikeys.models import StoredApiKey
from backendkit.auth import ApiKey, ApiKeyRecord
from backendkit.auth._api_key_core import key_from_row, record_from_row, record_values

__all__ = ["DjangoApiKeyStore"]

T = TypeVar("T")


class DjangoApiKeyStore:
    """API-key store on the Django ORM (app ``backendkit.adapters.django.apikeys``).

    The ``a``-prefixed methods run the sync ones through ``sync_to_async``, as Django's own
    async ORM calls do.

    Args:
        using: the database alias.

    Example:
        ```python
        api_keys = ApiKeyService.from_settings(settings, DjangoApiKeyStore())
        ```
    """

    def __init__(self, using: str = "default") -> None:
        self._using = using

    def _objects(self) -> Any:
        return StoredApiKey.objects.using(self._using)

    def add(self, record: ApiKeyRecord) -> None:
        """Insert a new key."""
        with database_available():
            self._objects().create(**record_values(record))

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The key with this public id, or ``None`` (one primary-key read)."""
        with database_available():
            row = self._objects().filter(pk=key_id).first()
        return None if row is None else record_from_row(row)

    def list_for(self, user_id: str) -> list[ApiKey]:
        """The user's keys that are not revoked, oldest first."""
        with database_available():
            rows = self._objects().filter(user_id=user_id, revoked_at__isnull=True)
            return [key_from_row(row) for row in rows.order_by("created_at", "id")]

    def revoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Revoke the user's live key; ``False`` when there is none."""
        with database_available():
            rows = self._objects().filter(pk=key_id, user_id=user_id, revoked_at__isnull=True)
            return bool(rows.update(revoked_at=now))

    def touch(self, key_id: str, now: float, before: float) -> None:
        """Set ``last_used_at`` unless a use at or after ``before`` set it already."""
        due = Q(last_used_at__isnull=True) | Q(last_used_at__lt=before)
        with database_available():
            self._objects().filter(due, pk=key_id).update(last_used_at=now)

    async def aadd(self, record: ApiKeyRecord) -> None:
        """Async twin of ``add``."""
        await _off(self.add, record)

    async def aget(self, key_id: str) -> ApiKeyRecord | None:
        """Async twin of ``get``."""
        return await _off(self.get, key_id)

    async def alist_for(self, user_id: str) -> list[ApiKey]:
        """Async twin of ``list_for``."""
        return await _off(self.list_for, user_id)

    async def arevoke(self, key_id: str, user_id: str, now: float) -> bool:
        """Async twin of ``revoke``."""
        return await _off(self.revoke, key_id, user_id, now)

    async def atouch(self, key_id: str, now: float, before: float) -> None:
        """Async twin of ``touch``."""
        await _off(self.touch, key_id, now, before)


async def _off(call: Callable[..., T], *args: Any) -> T:
    return await sync_to_async(call)(*args)
