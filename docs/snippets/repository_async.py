"""The async repository with aiosqlite: same operations, objects usable after commit."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

from backendkit.listing import PageParams
from backendkit.repository import (
    AsyncRepository,
    AsyncUnitOfWork,
    build_async_engine,
    build_async_session_factory,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list[Book]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


# --8<-- [start:async]
class AuthorRepository(AsyncRepository[Author]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"name": Author.name}


async def main(url: str) -> None:
    engine = build_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    factory = build_async_session_factory(engine)  # expire_on_commit=False

    async with AsyncUnitOfWork(factory) as uow:
        author = await AuthorRepository(uow.session).create({"name": "Ursula"})
        uow.session.add_all([Book(title=t, author_id=author.id) for t in ("A", "B")])
    assert author.name == "Ursula"  # readable after commit: no lazy refresh, no MissingGreenlet

    async with AsyncUnitOfWork(factory) as uow:
        authors = AuthorRepository(uow.session)
        page = await authors.list_page(
            PageParams(), sort="name", options=[selectinload(Author.books)]
        )
        # Relationships are loaded up front: reading them needs no I/O.
        assert [b.title for b in page.items[0].books] == ["A", "B"]
    await engine.dispose()


# --8<-- [end:async]

folder = tempfile.TemporaryDirectory()
asyncio.run(main(f"sqlite+aiosqlite:///{Path(folder.name) / 'async.db'}"))
folder.cleanup()
