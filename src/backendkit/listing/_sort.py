"""Allowlisted sorting: ``"-createdAt,name"`` -> ``(("createdAt", True), ("name", False))``.

Shared by the SQLAlchemy repository and the Django adapter; each resolves the parsed names
into its own sort keys (primary key last, as the final tie-breaker).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from backendkit.errors import ErrorDetail, ValidationFailed

__all__ = ["NamedKey", "canonical_sort", "parse_sort"]

_MAX_SORT_FIELDS = 5


class NamedKey(Protocol):
    """A resolved sort key as the listing helpers see it: its wire name and direction."""

    @property
    def name(self) -> str:
        """The wire name (or a stable private name for the primary-key tie-breaker)."""

    @property
    def descending(self) -> bool:
        """Whether the key runs from greatest to least."""


def parse_sort(
    text: str | None,
    fields: Collection[str],
    *,
    default: str | None,
    param: str = "sort",
) -> tuple[tuple[str, bool], ...]:
    """Parse ``"-createdAt,name"`` into ``(("createdAt", True), ("name", False))``.

    Raises:
        ValidationFailed: naming ``param`` for an unknown, repeated or empty field. The
            messages name the allowed fields, never the client's text (it may be hostile
            and is never echoed).
    """
    source = text if text not in (None, "") else default
    if not source:
        return ()
    parsed: list[tuple[str, bool]] = []
    problems: list[str] = []
    for part in source.split(","):
        token = part.strip()
        descending = token.startswith("-")
        name = token[1:] if descending or token.startswith("+") else token
        if not name:
            problems.append("contains an empty field")
        elif name not in fields:
            allowed = ", ".join(sorted(fields))
            unknown = f"can sort only by {allowed}" if allowed else "cannot be used here"
            if unknown not in problems:  # one message however many unknown names
                problems.append(unknown)
        elif any(existing == name for existing, _ in parsed):
            problems.append(f"names '{name}' more than once")  # an allowlisted name
        else:
            parsed.append((name, descending))
    if len(parsed) > _MAX_SORT_FIELDS:
        problems.append(f"accepts at most {_MAX_SORT_FIELDS} fields")
    if problems:
        raise ValidationFailed(
            "Invalid sort", details=[ErrorDetail(param, message) for message in problems]
        )
    return tuple(parsed)


def canonical_sort(keys: Sequence[NamedKey]) -> list[str]:
    """The sort as stable text, used to bind cursors to the order they were made for."""
    return [("-" if key.descending else "") + key.name for key in keys]
