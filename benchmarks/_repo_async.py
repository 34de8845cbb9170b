"""The repository benchmark's async rows: ``AsyncRepository`` against raw async SQLAlchemy.

The first 20-row page of the loaded table through ``AsyncRepository.list_page`` (count
``none``) and ``list_cursor``, against the same SELECT through an ``AsyncConnection``
(Core, rows) and an ``AsyncSession`` (plain ORM, objects), on the database's asyncio
driver (asyncpg, asyncmy, aiosqlite). Their rows are checked equal before timing; the
calls run in turns inside one event loop, so drift hits all alike.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from _repo_data import AsyncRowRepository, Loaded, Row
from _repo_timing import ameasure_interleaved, ms

from backendkit.listing import CursorCodec, CursorParams, PageParams
from backendkit.repository import build_async_engine, build_async_session_factory


async def _overhead(loaded: Loaded, codec: CursorCodec, per_page: int) -> dict[str, float]:
    engine = build_async_engine(
        loaded.async_url,
        pool_size=2,
        statement_timeout=None,
        connect_args=loaded.async_connect_args,
    )
    table = Row.__table__
    core_stmt = sa.select(table).order_by(table.c.created_at.desc(), table.c.id.desc())
    orm_stmt = sa.select(Row).order_by(Row.created_at.desc(), Row.id.desc())
    try:
        factory = build_async_session_factory(engine)
        async with factory() as session, engine.connect() as conn:
            repo = AsyncRowRepository(session, cursor_codec=codec)
            params = PageParams(page=1, per_page=per_page)
            cursor_params = CursorParams(per_page=per_page)

            async def ours() -> list[int]:
                page = await repo.list_page(params, sort="-createdAt", count="none")
                return [row.id for row in page.items]

            async def ours_cursor() -> list[int]:
                page = await repo.list_cursor(cursor_params, sort="-createdAt")
                return [row.id for row in page.items]

            async def core() -> list[int]:
                result = await conn.execute(core_stmt.limit(per_page + 1))
                return [row.id for row in result.all()][:per_page]

            async def orm() -> list[int]:
                result = await session.scalars(orm_stmt.limit(per_page + 1))
                return [row.id for row in result][:per_page]

            reference = await ours()
            assert await core() == reference, "async Core returned other rows"
            assert await orm() == reference, "async ORM returned other rows"
            assert await ours_cursor() == reference, "list_cursor returned other rows"
            return await ameasure_interleaved(
                {
                    "repository_ms": ours,
                    "repository_cursor_ms": ours_cursor,
                    "core_ms": core,
                    "orm_ms": orm,
                },
                min_time=1.0,
                min_runs=50,
            )
    finally:
        await engine.dispose()


def async_overhead_scenario(loaded: Loaded, codec: CursorCodec, per_page: int) -> dict[str, Any]:
    """Milliseconds per first page: AsyncRepository, its cursor paging, async Core and ORM."""
    timings = asyncio.run(_overhead(loaded, codec, per_page))
    return {name: ms(seconds) for name, seconds in timings.items()}
