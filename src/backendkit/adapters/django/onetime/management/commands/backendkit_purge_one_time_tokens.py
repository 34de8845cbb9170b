"""``manage.py backendkit_purge_one_time_tokens``: delete expired one-time tokens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand  # type: ignore[import-untyped]

from backendkit.adapters.django.onetime._store import DjangoOneTimeTokenStore

__all__ = ["Command"]


class Command(BaseCommand):  # type: ignore[misc]
    """Delete the one-time tokens that have expired (tokens never used stay until then)."""

    help = "Delete expired one-time tokens (schedule it, e.g. daily)."

    def add_arguments(self, parser: Any) -> None:
        """``--database``: the alias (``default``)."""
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        """Purge and report how many rows went."""
        count = DjangoOneTimeTokenStore(options["database"]).purge_expired()
        self.stdout.write(f"purged {count} expired one-time tokens")
