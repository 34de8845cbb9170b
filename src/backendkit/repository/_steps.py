"""The I/O steps a repository operation asks its executor to perform.

Operations are written once, as generators in ``_base`` that yield these steps and receive
each result; the sync and async repositories only perform them (httpx's ``auth_flow`` idea).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

from sqlalchemy.sql.base import Executable

__all__ = ["Add", "Delete", "Execute", "Flow", "Flush", "Step"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Execute:
    """Run ``statement``; the result is shaped by ``mode``.

    ``scalars``: list of first-column values; ``scalar``: one value; ``rows``: list of
    rows; ``none``: nothing. ``unique`` de-duplicates (needed with joined eager loads).
    """

    statement: Executable
    mode: Literal["scalars", "scalar", "rows", "none"] = "scalars"
    params: Sequence[dict[str, Any]] | dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    unique: bool = False


@dataclass(frozen=True, slots=True)
class Add:
    """``session.add_all(objects)``."""

    objects: Sequence[Any]


@dataclass(frozen=True, slots=True)
class Delete:
    """``session.delete(obj)``."""

    obj: Any


@dataclass(frozen=True, slots=True)
class Flush:
    """``session.flush()``: send pending changes so errors surface inside the operation."""


Step: TypeAlias = "Execute | Add | Delete | Flush"
Flow: TypeAlias = Generator[Step, Any, R]
