"""``manage.py backendkit_purge_tokens``: delete the token store's expired rows."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand  # type: ignore[import-untyped]

from backendkit.adapters.django.tokenstore._store import DjangoTokenStore

__all__ = ["Command"]


class Command(BaseCommand):  # type: ignore[misc]
    """Delete expired sessions, denials and cut-offs; clear grace pairs past their window."""

    help = "Delete the token store's expired rows (schedule it, e.g. hourly)."

    def add_arguments(self, parser: Any) -> None:
        """``--database``: the alias (``default``)."""
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        """Purge and report how many rows went."""
        count = DjangoTokenStore(options["database"]).purge_expired()
        self.stdout.write(f"purged {count} expired token store rows")
