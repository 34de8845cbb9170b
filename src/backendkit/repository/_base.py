"""``RepositoryBase``: the configuration and every operation both repositories share.

Operations are generators (see ``_steps``) so their logic exists once; ``Repository`` and
``AsyncRepository`` only drive them against a ``Session`` or an ``AsyncSession``.
"""

from __future__ import annotations

from typing import TypeVar

from backendkit.repository._core import Data
from backendkit.repository._reads import ReadFlows
from backendkit.repository._writes import WriteFlows

__all__ = ["Data", "RepositoryBase"]

ModelT = TypeVar("ModelT")


class RepositoryBase(ReadFlows[ModelT], WriteFlows[ModelT]):
    """Configuration and shared operations; subclass ``Repository`` or ``AsyncRepository``.

    Class attributes:
        model: The mapped class; inferred from ``Repository[User]`` when not set.
        filter_fields: Wire name -> [`FilterField`][backendkit.repository.FilterField] (or a
            column, allowing ``eq`` and ``in``). Nothing else can be filtered on.
        sort_fields: Wire name -> [`SortField`][backendkit.repository.SortField] (or a
            column). Nothing else can be sorted on; the primary key always breaks ties.
        default_sort: Sort used when the client gives none, e.g. ``"-createdAt"``.
        max_offset: Largest row offset page-number paging accepts (``None``: no limit).
        estimate_threshold: Below this planner estimate, ``estimated`` counts exactly.
        load_options: Loader options (``selectinload(...)``) applied to every query.
        chunk_size: Rows per statement in ``create_many`` and ``upsert_many``.
        get_many_chunk_size: Ids per ``IN`` statement in ``get_many`` (PostgreSQL sends
            them all in one array; SQLite's parameter limit may lower it).
    """
