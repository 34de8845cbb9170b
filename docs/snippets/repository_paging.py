"""Offset pages, count strategies and cursor pages (SQLite, self-checking)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.errors import ValidationFailed
from backendkit.listing import CursorCodec, CursorParams, PageParams
from backendkit.repository import Repository, UnitOfWork, build_engine, build_session_factory


class Base(DeclarativeBase):
    pass


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    score: Mapped[int | None]


class ArticleRepository(Repository[Article]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"title": Article.title, "score": Article.score}
    max_offset = 1_000  # page-number paging refuses deeper offsets


folder = tempfile.TemporaryDirectory()
engine = build_engine(f"sqlite:///{Path(folder.name) / 'paging.db'}")
Base.metadata.create_all(engine)
factory = build_session_factory(engine)
with UnitOfWork(factory) as uow:
    ArticleRepository(uow.session).create_many(
        [{"title": f"Article {i:02d}", "score": None if i % 5 == 0 else i % 3} for i in range(45)]
    )

# --8<-- [start:offset]
with UnitOfWork(factory) as uow:
    articles = ArticleRepository(uow.session)

    page = articles.list_page(PageParams(page=2, per_page=20))  # count="exact"
    assert (page.total, page.total_pages, page.has_next) == (45, 3, True)

    fast = articles.list_page(PageParams(page=2, per_page=20), count="none")
    assert (fast.total, fast.has_next) == (None, True)  # one query, no COUNT

    past = articles.list_page(PageParams(page=9, per_page=20))
    assert (past.items, past.total) == ([], 45)  # the true total, never 0

    try:
        articles.list_page(PageParams(page=100, per_page=20))
    except ValidationFailed as error:
        too_deep = error
    assert [d.field for d in too_deep.details] == ["page"]  # beyond max_offset
# --8<-- [end:offset]

# --8<-- [start:cursor]
codec = CursorCodec([b"use CursorCodec.from_settings(settings) in an app"])

with UnitOfWork(factory) as uow:
    articles = ArticleRepository(uow.session, cursor_codec=codec)
    seen: list[int] = []
    page = articles.list_cursor(CursorParams(per_page=20), sort="score,-title")
    seen += [a.id for a in page.items]
    while page.has_next:
        params = CursorParams(cursor=page.next_cursor, per_page=20)
        page = articles.list_cursor(params, sort="score,-title")
        seen += [a.id for a in page.items]
    assert len(seen) == len(set(seen)) == 45  # every row once, NULL scores last

    # A cursor only works for the sort (and filters) it was made for.
    first = articles.list_cursor(CursorParams(per_page=5), sort="score")
    try:
        articles.list_cursor(CursorParams(cursor=first.next_cursor), sort="-score")
    except ValidationFailed as error:
        replayed = error
    assert [d.field for d in replayed.details] == ["cursor"]
# --8<-- [end:cursor]
engine.dispose()
folder.cleanup()
