"""Sort keys over attribute paths (``author__name``), for ORMs that name fields that way.

The Django adapter resolves the client's sort through them; what the sort means (the
allowlist, the primary key breaking ties) is decided here, the ORM only says it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from backendkit.listing._sort import parse_sort

__all__ = ["PK_NAME", "PathKey", "path_keys"]

#: The wire name of the primary-key tie-breaker (never a client's sort field).
PK_NAME = "_pk"


@dataclass(frozen=True, slots=True)
class PathKey:
    """One resolved sort key: its wire ``name``, attribute ``path``, direction, nullability."""

    name: str
    path: str
    descending: bool
    nullable: bool

    def reversed(self) -> PathKey:
        """The same key in the opposite direction (for walking backwards)."""
        return PathKey(self.name, self.path, not self.descending, self.nullable)

    def value_of(self, row: Any) -> Any:
        """The key's value on ``row``: the path's attributes in turn (``None`` past a
        missing relation)."""
        for part in self.path.split("__"):
            row = None if row is None else getattr(row, part)
        return row


def path_keys(
    sort: str | None,
    fields: Mapping[str, str] | None,
    *,
    default: str | None,
    nullable: Callable[[str], bool],
    pk: str,
    pk_paths: Collection[str],
) -> list[PathKey]:
    """The client's ``sort`` (or ``default``) over the allowlist ``fields`` (wire name ->
    path), then the primary key ``pk`` unless a key's path is one of ``pk_paths`` already.

    The tie-breaker follows the last key's direction, so a one-direction sort stays one
    (and an index serves it). ``nullable(path)`` tells whether a path can be NULL.

    Raises:
        ValidationFailed: a sort that is not allowlisted (field ``sort``).

    Example:
        >>> keys = path_keys("-created", {"created": "created_at"}, default=None,
        ...                  nullable=lambda path: False, pk="id", pk_paths={"id", "pk"})
        >>> [(key.name, key.path, key.descending) for key in keys]
        [('created', 'created_at', True), ('_pk', 'id', True)]
    """
    allowed = dict(fields or {})
    keys = [
        PathKey(name, allowed[name], descending, nullable(allowed[name]))
        for name, descending in parse_sort(sort, allowed, default=default)
    ]
    if not any(key.path in pk_paths for key in keys):
        keys.append(PathKey(PK_NAME, pk, keys[-1].descending if keys else False, False))
    return keys
