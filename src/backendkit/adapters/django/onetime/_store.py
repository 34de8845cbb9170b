"""`DjangoOneTimeTokenStore`: one-time tokens on the Django ORM.

Consuming is one ``transaction.atomic`` block on the configured alias: it locks the row
found by the token's digest (``select_for_update()`` on PostgreSQL and MySQL/MariaDB; on
SQLite, which ignores that, an ``UPDATE`` that changes nothing takes the database's write
lock first), deletes it by its primary key and keeps it only when that ``DELETE`` removed
one row. Of any number of concurrent consumers exactly one gets the record; the others
wait for the lock and then find nothing.

Adding a token first deletes the same user's expired tokens for that purpose, in a
transaction of its own (two issues for one user at once never hold each other's locks).
An unreachable database is [`BackendUnavailable`][backendkit.errors.BackendUnavailable]
(503): no reset is issued or confirmed while it is down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import (  # type: ignore[import-untyped]
    connections,
)
from django.db.models import F  # type: ignore[import-untyped]

from backendkit.adapters.django._db import atomic_on
from backendkit.adapters.django.onetime.models import StoredOneTimeToken
from backendkit.auth import OneTimeToken
from backendkit.clock import Clock, system_clock

__all__ = ["DjangoOneTimeTokenStore"]

T = TypeVar("T")


def _record(row: Any) -> OneTimeToken:
    return OneTimeToken(row.purpose, row.user_id, row.email, row.issued_at, row.expires_at)


class DjangoOneTimeTokenStore:
    """One-time token store on the Django ORM (app ``backendkit.adapters.django.onetime``).

    It implements [`OneTimeTokenStore`][backendkit.auth.OneTimeTokenStore] and
    [`AsyncOneTimeTokenStore`][backendkit.auth.AsyncOneTimeTokenStore]; the ``a``-prefixed
    methods run the sync ones through ``sync_to_async``, as Django's own async ORM calls do.

    Args:
        using: the database alias.
        clock: the time of `purge_expired` when it is called without ``now``.

    Example:
        ```python
        tokens = OneTimeTokens.from_settings(settings, DjangoOneTimeTokenStore(), sender=mailer)
        ```
    """

    def __init__(self, using: str = "default", *, clock: Clock = system_clock) -> None:
        self._using = using
        self._clock = clock

    def _objects(self) -> Any:
        return StoredOneTimeToken.objects.using(self._using)

    def _atomic(self) -> AbstractContextManager[None]:
        return atomic_on(self._using)

    def add(self, digest: str, record: OneTimeToken) -> None:
        """Delete the user's expired tokens for the purpose, then insert this one."""
        with self._atomic():
            self._objects().filter(
                user_id=record.user_id, purpose=record.purpose, expires_at__lte=record.issued_at
            ).delete()
        with self._atomic():
            self._objects().create(
                digest=digest,
                purpose=record.purpose,
                user_id=record.user_id,
                email=record.email,
                issued_at=record.issued_at,
                expires_at=record.expires_at,
            )

    def take(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Lock the token's row, delete it, and return it only if this call deleted it."""
        with self._atomic():
            rows = self._objects().filter(digest__in=list(digests))
            if connections[self._using].vendor == "sqlite":
                rows.update(digest=F("digest"))  # the write lock, before reading
            row = rows.select_for_update().first()
            if row is None:
                return None
            deleted, _ = self._objects().filter(pk=row.pk).delete()
        return _record(row) if deleted == 1 else None

    def invalidate(self, user_id: str, purpose: str) -> int:
        """Delete the user's outstanding tokens for ``purpose``; how many."""
        with self._atomic():
            deleted, _ = self._objects().filter(user_id=user_id, purpose=purpose).delete()
        return int(deleted)

    def purge_expired(self, now: float | None = None) -> int:
        """Delete every token that expired at or before ``now`` (default: the store's
        clock); how many. ``manage.py backendkit_purge_one_time_tokens`` calls it."""
        when = self._clock.now() if now is None else now
        with self._atomic():
            deleted, _ = self._objects().filter(expires_at__lte=when).delete()
        return int(deleted)

    async def aadd(self, digest: str, record: OneTimeToken) -> None:
        """Async twin of ``add``."""
        await _off(self.add, digest, record)

    async def atake(self, digests: Sequence[str]) -> OneTimeToken | None:
        """Async twin of ``take``."""
        return await _off(self.take, digests)

    async def ainvalidate(self, user_id: str, purpose: str) -> int:
        """Async twin of ``invalidate``."""
        return await _off(self.invalidate, user_id, purpose)

    def __repr__(self) -> str:
        return f"DjangoOneTimeTokenStore(using={self._using!r})"


async def _off(call: Callable[..., T], *args: Any) -> T:
    return await sync_to_async(call)(*args)
