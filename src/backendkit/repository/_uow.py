"""Units of work: one session and one transaction, committed on success, rolled back on error.

Example:
    ```python
    with UnitOfWork(session_factory) as uow:
        users = UserRepository(uow.session)
        user = users.create({"email": "ann@example.com"})
        AuditRepository(uow.session).create({"user_id": user.id, "action": "signup"})
    # committed here; any exception above rolled everything back
    ```
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from backendkit.repository._errors import translate_errors
from backendkit.repository._replicas import pin_to_primary

__all__ = ["AsyncUnitOfWork", "UnitOfWork"]


class UnitOfWork:
    """A session whose transaction commits when the block succeeds and rolls back otherwise.

    Database errors raised by the commit are translated like the repositories' own
    (``Conflict``, ``BackendUnavailable``, ``InternalError``). The session is closed at the
    end; with ``expire_on_commit=False`` (the factory's default) loaded objects stay usable.
    With a factory given a ``read_engine``, every statement of the unit, reads included,
    goes to the primary.

    Args:
        session_factory: A ``sessionmaker`` (or any callable returning a new ``Session``).
    """

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The session of the running unit of work."""
        if self._session is None:
            raise RuntimeError("the unit of work is not running; use it in a `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        pin_to_primary(self._session)  # read replicas: a unit of work reads what it writes
        self._session.begin()
        return self

    def commit(self) -> None:
        """Commit now (a new transaction starts on the next use of the session)."""
        with translate_errors():
            self.session.commit()

    def rollback(self) -> None:
        """Roll back now."""
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                try:
                    self.commit()
                except BaseException:
                    session.rollback()
                    raise
            else:
                session.rollback()
        finally:
            session.close()
            self._session = None


class AsyncUnitOfWork:
    """The async twin of [`UnitOfWork`][backendkit.repository.UnitOfWork].

    Example:
        ```python
        async with AsyncUnitOfWork(async_session_factory) as uow:
            await UserRepository(uow.session).create({"email": "ann@example.com"})
        ```
    """

    def __init__(self, session_factory: Callable[[], AsyncSession]) -> None:
        self._factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The session of the running unit of work."""
        if self._session is None:
            raise RuntimeError("the unit of work is not running; use it in an `async with`")
        return self._session

    async def __aenter__(self) -> AsyncUnitOfWork:
        self._session = self._factory()
        pin_to_primary(self._session)
        await self._session.begin()
        return self

    async def commit(self) -> None:
        """Commit now (a new transaction starts on the next use of the session)."""
        with translate_errors():
            await self.session.commit()

    async def rollback(self) -> None:
        """Roll back now."""
        await self.session.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if exc_type is None:
                try:
                    await self.commit()
                except BaseException:
                    await session.rollback()
                    raise
            else:
                await session.rollback()
        finally:
            await session.close()
            self._session = None
