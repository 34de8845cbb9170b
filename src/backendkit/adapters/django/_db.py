"""What the Django stores share: a database error becomes `BackendUnavailable`, logged once.

The API-key, token and one-time token stores answer 503 (not 500) while their database is
down or refuses connections; the original error is logged with its code, never sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import InterfaceError, OperationalError, transaction  # type: ignore[import-untyped]

from backendkit._db_errors import log_database_error
from backendkit.errors import BackendUnavailable
from backendkit.logging import get_logger

__all__ = ["atomic_on", "database_available"]

_log = get_logger("backendkit.auth")


@contextmanager
def database_available() -> Iterator[None]:
    """Turn Django's connection-level errors inside the block into `BackendUnavailable`."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        unavailable = BackendUnavailable("The database is temporarily unavailable")
        log_database_error(_log, exc, unavailable.code)
        raise unavailable from exc


@contextmanager
def atomic_on(using: str) -> Iterator[None]:
    """One ``transaction.atomic`` block on the alias ``using``, under `database_available`."""
    with database_available(), transaction.atomic(using=using):
        yield
