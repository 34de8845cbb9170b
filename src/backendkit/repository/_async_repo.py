"""``AsyncRepository[Model]``: the asynchronous executor over the shared operations."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from backendkit.clock import Clock, system_clock
from backendkit.listing import CursorCodec, CursorPage, CursorParams, Page, PageParams
from backendkit.listing._paging import Counting
from backendkit.repository._base import Data, RepositoryBase
from backendkit.repository._errors import translate_errors
from backendkit.repository._steps import Add, Delete, Execute, Flow, Step

__all__ = ["AsyncRepository"]

ModelT = TypeVar("ModelT")
R = TypeVar("R")


class AsyncRepository(RepositoryBase[ModelT]):
    """CRUD, filtering, sorting, paging and counting for one model over an ``AsyncSession``.

    Subclass it for a model, allowlist what clients may filter and sort by, and use it
    inside a unit of work. Repositories flush but never commit: the caller's transaction
    (e.g. [`AsyncUnitOfWork`][backendkit.repository.AsyncUnitOfWork]) decides.

    Example:
        ```python
        class UserRepository(AsyncRepository[User]):
            filter_fields = {"email": FilterField(User.email, "eq", "search")}
            sort_fields = {"createdAt": User.created_at, "name": User.name}
            default_sort = "-createdAt"

        page = await UserRepository(session).list_page(PageParams(page=2), filters=query)
        ```

    Args:
        session: The ``AsyncSession`` to use (see the guide for its settings).
        cursor_codec: Signs cursors; required for ``list_cursor``.
        clock: Time source for soft-delete timestamps.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        cursor_codec: CursorCodec | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.session = session
        dialect = session.sync_session.get_bind(mapper=self._require_model()).dialect.name
        super().__init__(cursor_codec=cursor_codec, clock=clock, dialect=dialect)

    async def _run(self, flow: Flow[R]) -> R:
        with translate_errors(self.model):
            try:
                step = next(flow)
                while True:
                    step = flow.send(await self._perform(step))
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def _perform(self, step: Step) -> Any:
        session = self.session
        if isinstance(step, Execute):
            if step.mode == "scalars":
                scalars = await session.scalars(
                    step.statement, step.params, execution_options=step.options
                )
                return (scalars.unique() if step.unique else scalars).all()
            result = await session.execute(
                step.statement, step.params, execution_options=step.options
            )
            if step.mode == "rows":
                return (result.unique() if step.unique else result).all()
            if step.mode == "scalar":
                return result.scalar()
            return None
        if isinstance(step, Add):
            session.add_all(step.objects)
        elif isinstance(step, Delete):
            await session.delete(step.obj)
        else:
            await session.flush()
        return None

    # -- reading ----------------------------------------------------------------------
    async def get(
        self, ident: Any, *, options: Sequence[ORMOption] = (), include_deleted: bool = False
    ) -> ModelT:
        """Return the row with this primary key (a tuple for a composite key).

        Raises:
            NotFound: no such row (or it is soft-deleted).
        """
        return await self._run(self._flow_require(ident, options, include_deleted))

    async def get_or_none(
        self, ident: Any, *, options: Sequence[ORMOption] = (), include_deleted: bool = False
    ) -> ModelT | None:
        """Return the row with this primary key, or ``None``."""
        return await self._run(self._flow_get(ident, options, include_deleted))

    async def get_many(
        self,
        idents: Iterable[Any],
        *,
        missing: Literal["raise", "omit"] = "raise",
        options: Sequence[ORMOption] = (),
        include_deleted: bool = False,
    ) -> list[ModelT]:
        """Return the rows with these primary keys, in the order asked; each row once.

        One statement on PostgreSQL (``pk = ANY(:ids)``, one bound array); elsewhere one
        ``IN`` statement per ``get_many_chunk_size`` ids. Ids are converted to the key's
        type first (``"42"`` reads as ``42``); a repeated id counts once.

        Args:
            idents: Primary keys (tuples for a composite key).
            missing: ``"raise"``: an id with no row (or a soft-deleted one) raises
                ``NotFound``; ``"omit"``: such ids are left out of the result.

        Raises:
            NotFound: with ``missing="raise"``, ids with no row, named by their position
                (``ids[3]``) in the details (the first ten; the rest are counted).
            ValidationFailed: ``idents`` is not a list of ids, or an id is of the wrong type.
        """
        return await self._run(self._flow_get_many(idents, missing, options, include_deleted))

    async def exists(
        self,
        *where: ColumnElement[bool],
        filters: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
    ) -> bool:
        """Whether any row matches ``where`` (trusted clauses) and ``filters`` (client input)."""
        return await self._run(self._flow_exists(where, filters, include_deleted))

    async def count(
        self,
        *where: ColumnElement[bool],
        filters: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
    ) -> int:
        """The exact number of matching rows."""
        return await self._run(self._flow_count(where, filters, include_deleted))

    async def list(
        self,
        *where: ColumnElement[bool],
        filters: Mapping[str, Any] | None = None,
        sort: str | None = None,
        limit: int | None = None,
        options: Sequence[ORMOption] = (),
        include_deleted: bool = False,
    ) -> builtins.list[ModelT]:
        """Matching rows in the requested order (primary key breaks ties), up to ``limit``."""
        return await self._run(
            self._flow_list(where, filters, sort, limit, options, include_deleted)
        )

    async def list_page(
        self,
        params: PageParams,
        *where: ColumnElement[bool],
        filters: Mapping[str, Any] | None = None,
        sort: str | None = None,
        count: Counting = "exact",
        options: Sequence[ORMOption] = (),
        include_deleted: bool = False,
    ) -> Page[ModelT]:
        """One page by page number (``OFFSET``), with ``total`` per the count strategy.

        Raises:
            ValidationFailed: a filter or sort that is not allowed, or a page whose offset
                is beyond ``max_offset`` (field ``page``).
        """
        return await self._run(
            self._flow_page(params, where, filters, sort, count, options, include_deleted)
        )

    async def list_cursor(
        self,
        params: CursorParams,
        *where: ColumnElement[bool],
        filters: Mapping[str, Any] | None = None,
        sort: str | None = None,
        options: Sequence[ORMOption] = (),
        include_deleted: bool = False,
    ) -> CursorPage[ModelT]:
        """One page by keyset cursor: as fast at any depth as on the first page; no count.

        The cursor only works with the same sort and filters it was made for.

        Raises:
            ValidationFailed: a bad filter or sort, or a cursor that is invalid, tampered
                with or made for another query (field ``cursor``).
        """
        return await self._run(
            self._flow_cursor(params, where, filters, sort, options, include_deleted)
        )

    # -- writing ----------------------------------------------------------------------
    async def create(self, data: Data | ModelT) -> ModelT:
        """Insert one row (from a mapping, a pydantic model or an instance) and flush.

        Raises:
            Conflict: a unique, foreign-key, not-null or check constraint refused it.
            ValidationFailed: a key that is not a mapped attribute.
        """
        return await self._run(self._flow_create(data))

    async def create_many(
        self, items: Iterable[Data | ModelT], *, chunk_size: int | None = None
    ) -> builtins.list[ModelT]:
        """Insert many rows with one statement per chunk; returns them in input order."""
        return await self._run(self._flow_create_many(items, chunk_size))

    async def update(
        self, target: ModelT | Any, data: Data, *, options: Sequence[ORMOption] = ()
    ) -> ModelT:
        """Apply a partial update to an instance (or the row with this primary key).

        With [`VersionMixin`][backendkit.repository.VersionMixin], a ``version`` in ``data``
        must match the row's, and a concurrent change is detected at flush.

        Raises:
            NotFound: ``target`` is a key with no row.
            Conflict: a constraint refused the change, or the row was changed meanwhile.
        """
        return await self._run(self._flow_update(target, data, options))

    async def delete(self, target: ModelT | Any, *, hard: bool = False) -> None:
        """Delete an instance (or the row with this primary key).

        With [`SoftDeleteMixin`][backendkit.repository.SoftDeleteMixin] the row is only
        marked deleted unless ``hard=True``.
        """
        await self._run(self._flow_delete(target, hard))

    async def upsert(
        self, data: Data, *, conflict: Sequence[str], update: Sequence[str] | None = None
    ) -> ModelT:
        """Insert the row, or update it when ``conflict`` columns match, atomically.

        Args:
            data: The row's values.
            conflict: Attribute names of the unique key that decides "already exists"
                (MySQL/MariaDB use whichever unique key conflicts).
            update: Attributes to overwrite on conflict; default: every given
                non-key attribute.
        """
        return (await self._run(self._flow_upsert([data], conflict, update, None)))[0]

    async def upsert_many(
        self,
        items: Iterable[Data],
        *,
        conflict: Sequence[str],
        update: Sequence[str] | None = None,
        chunk_size: int | None = None,
    ) -> builtins.list[ModelT]:
        """``upsert`` for many rows: one statement per chunk; the last duplicate wins."""
        return await self._run(self._flow_upsert(list(items), conflict, update, chunk_size))
