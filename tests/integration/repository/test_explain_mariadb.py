"""MariaDB reads the repository's keyset pages from an index, on nullable sorts too.

MariaDB has no ``NULLS FIRST/LAST``: the repository orders a nullable column ``c`` by
``c IS NULL, c``, which no index serves. Its keyset statements therefore read the values and
the NULLs of ``c`` as separate parts, each ordered as an index on ``(c, ...)`` is. For each
shape the statement ``list_cursor`` really sends (captured with an engine hook) is
EXPLAINed: every part that reads the table must use an index and sort nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy import Index, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from tests.integration.repository.conftest import CODEC, MYSQL

from backendkit.listing import CursorParams
from backendkit.repository import Repository, build_engine

pytestmark = pytest.mark.mysql


class _Base(DeclarativeBase):
    metadata = MetaData()


class Row(_Base):
    __tablename__ = "bk_explain_rows"
    __table_args__ = (
        Index("ix_rows_c_id", "c", "id"),
        Index("ix_rows_c_b_id", "c", "b", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    b: Mapped[int] = mapped_column(Integer)
    c: Mapped[int | None] = mapped_column(Integer)


class RowRepo(Repository[Row]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"b": Row.b, "c": Row.c}


SHAPES = {"nullable": "c", "nullable-desc": "-c", "nullable-multi": "c,b"}


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    """A private database with 5,000 analysed rows (a fifth with NULL ``c``)."""
    name = f"bk_{uuid.uuid4().hex[:10]}"
    admin = build_engine(MYSQL.require(), pool_size=1)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    eng = build_engine(sa.make_url(MYSQL.require()).set(database=name), pool_size=1)
    try:
        _Base.metadata.create_all(eng)
        with eng.begin() as conn:
            conn.execute(
                Row.__table__.insert(),
                [
                    {"id": i, "b": i % 7, "c": None if i % 5 == 0 else i % 40}
                    for i in range(1, 5001)
                ],
            )
            conn.exec_driver_sql("ANALYZE TABLE bk_explain_rows")
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE `{name}`"))
        admin.dispose()


def _explain_own_statement(
    engine: sa.Engine, sort: str, cursor_row: int, backward: bool
) -> list[dict[str, Any]]:
    """Capture the SELECT list_cursor sends at ``cursor_row`` (0: the first page), EXPLAIN it."""
    captured: list[tuple[str, Any]] = []

    def hook(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        captured.append((statement, params))

    with Session(engine) as session:
        repo = RowRepo(session, cursor_codec=CODEC)
        token = None
        if cursor_row:
            page = repo.list_cursor(CursorParams(per_page=100), sort=sort)
            for _ in range(cursor_row // 100):
                page = repo.list_cursor(
                    CursorParams(cursor=page.next_cursor, per_page=100), sort=sort
                )
            token = page.prev_cursor if backward else page.next_cursor
        sa.event.listen(engine, "before_cursor_execute", hook)
        try:
            repo.list_cursor(CursorParams(cursor=token, per_page=20), sort=sort)
        finally:
            sa.event.remove(engine, "before_cursor_execute", hook)
        statement, params = captured[-1]
        result = session.connection().exec_driver_sql("EXPLAIN " + statement, params)
        return [dict(row._mapping) for row in result]


# (depth, backward): the first page, then pages inside the values and inside the NULLs.
PAGES = {
    "first": (0, False),
    "inside-values-forward": (300, False),
    "inside-values-backward": (300, True),
    "deep-forward": (4200, False),
    "deep-backward": (4200, True),
}


@pytest.mark.parametrize(("depth", "backward"), list(PAGES.values()), ids=list(PAGES))
@pytest.mark.parametrize(("shape", "sort"), list(SHAPES.items()), ids=list(SHAPES))
def test_keyset_parts_read_an_index_and_sort_nothing(
    engine: sa.Engine, shape: str, sort: str, backward: bool, depth: int
) -> None:
    """Each part reading the table uses an index, never a full scan, and no filesort."""
    plan = _explain_own_statement(engine, sort, depth, backward)
    # The parts: the one statement itself, or each branch of the UNION ALL of ids (the
    # outer query then sorts at most one page per part, which is what merges them).
    parts = [row for row in plan if row["table"] == "bk_explain_rows"]
    if any(row["select_type"] in ("DERIVED", "UNION") for row in plan):
        parts = [row for row in parts if row["select_type"] in ("DERIVED", "UNION")]
    assert parts, plan
    for row in parts:
        assert row["type"] != "ALL", (shape, row)
        assert row["key"], (shape, row)
        assert "filesort" not in (row["Extra"] or ""), (shape, row)
