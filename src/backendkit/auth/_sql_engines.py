"""The engines of a SQL auth store: a sync ``Engine``, an ``AsyncEngine``, or both on one
database, checked once; each side raises ``ConfigurationError`` when asked for and absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from backendkit.errors import ConfigurationError

__all__ = ["StoreEngines"]


@dataclass(frozen=True, slots=True)
class StoreEngines:
    """The engines a store named ``owner`` runs its statements on."""

    owner: str
    sync: sa.Engine | None
    asynchronous: AsyncEngine | None

    @classmethod
    def of(
        cls,
        owner: str,
        engine: sa.Engine | AsyncEngine,
        async_engine: AsyncEngine | None,
        *,
        kind: Callable[[sa.Engine | AsyncEngine], str] = lambda e: e.dialect.name,
    ) -> StoreEngines:
        """Sort ``engine`` by kind and pair it with ``async_engine``.

        ``kind`` names an engine's kind of database (by default its dialect name); a store
        that supports only some databases passes one that raises for the others.

        Raises:
            ConfigurationError: ``engine`` is not an engine, or the two are on different
                kinds of database.
        """
        if isinstance(engine, AsyncEngine):
            sync, async_engine = None, engine
        elif isinstance(engine, sa.Engine):
            sync = engine
        else:
            raise ConfigurationError(f"{owner} needs a SQLAlchemy Engine or AsyncEngine")
        if len({kind(e) for e in (sync, async_engine) if e is not None}) > 1:
            raise ConfigurationError(f"{owner}'s two engines must be on the same database")
        return cls(owner, sync, async_engine)

    def engine(self) -> sa.Engine:
        """The sync engine (``ConfigurationError`` without one)."""
        if self.sync is None:
            raise ConfigurationError(f"this {self.owner} has no sync engine")
        return self.sync

    def async_engine(self) -> AsyncEngine:
        """The async engine (``ConfigurationError`` without one)."""
        if self.asynchronous is None:
            raise ConfigurationError(f"this {self.owner} has no async engine")
        return self.asynchronous
