"""Data access for users: backendkit's ``Repository`` with allowlisted filters and sorts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from backendkit.repository import FilterField, Repository
from examples.flask_app.models import User

__all__ = ["UserRepository"]


class UserRepository(Repository[User]):
    """Users, filterable by ``email``, ``role`` and free text ``q``; sortable by four fields.

    Clients name only what is listed here: anything else in the query string is a
    ``400 VALIDATION_ERROR``, and values reach SQL as bound parameters only.
    """

    filter_fields: ClassVar[Mapping[str, Any]] = {
        "email": FilterField(User.email, "eq"),
        "role": FilterField(User.role, "eq", "in"),
        # Case-insensitive substring of the name or the email.
        "q": FilterField(User.name + " " + User.email, "search", python_type=str),
    }
    sort_fields: ClassVar[Mapping[str, Any]] = {
        "createdAt": User.created_at,
        "name": User.name,
        "email": User.email,
        "id": User.id,
    }
    default_sort = "-createdAt"

    def get_by_email(self, email: str) -> User | None:
        """The user with this (normalized) email, or ``None``."""
        found = self.list(User.email == email, limit=1)
        return found[0] if found else None
