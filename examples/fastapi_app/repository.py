"""Data access for users: backendkit's ``AsyncRepository`` with allowlisted filters and sorts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from backendkit.repository import AsyncRepository, FilterField
from examples.fastapi_app.models import User

__all__ = ["UserRepository"]


class UserRepository(AsyncRepository[User]):
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

    async def get_by_email(self, email: str) -> User | None:
        """The user with this (normalized) email, or ``None``."""
        found = await self.list(User.email == email, limit=1)
        return found[0] if found else None
