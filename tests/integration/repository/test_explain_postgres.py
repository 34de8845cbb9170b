"""PostgreSQL serves the repository's own keyset statements from an index, at any depth.

For each sort shape the statement ``list_cursor`` really sends (captured with an engine
hook) is EXPLAINed with ``SET LOCAL enable_seqscan = off``, so a small table cannot hide a
plan that would need a full scan: the plan must reach the table only through index scans.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from sqlalchemy import Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from tests.integration.repository.conftest import CODEC, POSTGRES

from backendkit.listing import CursorParams
from backendkit.repository import Repository, build_engine

pytestmark = pytest.mark.postgres


class _Base(DeclarativeBase):
    metadata = MetaData()


class Row(_Base):
    __tablename__ = "bk_explain_rows"
    __table_args__ = (
        Index("ix_rows_a_id", "a", "id"),
        Index("ix_rows_a_b_id", "a", "b", "id"),
        Index("ix_rows_adesc_b_id", sa.text("a DESC"), "b", "id"),
        Index("ix_rows_c_id", "c", "id"),
        Index("ix_rows_c_b_id", "c", "b", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    a: Mapped[int] = mapped_column(Integer)
    b: Mapped[int] = mapped_column(Integer)
    c: Mapped[int | None] = mapped_column(Integer)
    t: Mapped[str] = mapped_column(String(20))


class RowRepo(Repository[Row]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"a": Row.a, "b": Row.b, "c": Row.c}


SHAPES = {
    "single": "a",
    "single-desc": "-a",
    "multi-column": "a,b",
    "mixed-direction": "-a,b",
    "nullable": "c",
    "nullable-desc": "-c",
    "nullable-multi": "c,b",
}


@pytest.fixture(scope="module")
def engine() -> Iterator[sa.Engine]:
    """A private schema with 5,000 analysed rows (a fifth with NULL ``c``)."""
    schema = f"bk_{uuid.uuid4().hex[:10]}"
    admin = build_engine(POSTGRES.require(), pool_size=1)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng = build_engine(
        POSTGRES.require(), pool_size=1, connect_args={"options": f"-c search_path={schema}"}
    )
    try:
        _Base.metadata.create_all(eng)
        with eng.begin() as conn:
            conn.execute(
                Row.__table__.insert(),
                [
                    {
                        "id": i,
                        "a": i % 50,
                        "b": i % 7,
                        "c": None if i % 5 == 0 else i % 40,
                        "t": f"t{i}",
                    }
                    for i in range(1, 5001)
                ],
            )
            conn.execute(sa.text("ANALYZE bk_explain_rows"))
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _explain_own_statement(
    engine: sa.Engine, sort: str, cursor_row: int, backward: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Capture the SELECT list_cursor sends for a mid-table cursor and EXPLAIN it."""
    captured: list[tuple[str, Any]] = []

    def hook(_c: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        captured.append((statement, params))

    with Session(engine) as session:
        repo = RowRepo(session, cursor_codec=CODEC)
        # Walk to a page deep in the table, then capture the next request's statement.
        page = repo.list_cursor(CursorParams(per_page=100), sort=sort)
        for _ in range(cursor_row // 100):
            page = repo.list_cursor(CursorParams(cursor=page.next_cursor, per_page=100), sort=sort)
        token = page.prev_cursor if backward else page.next_cursor
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        sa.event.listen(engine, "before_cursor_execute", hook)
        try:
            repo.list_cursor(CursorParams(cursor=token, per_page=20), sort=sort)
        finally:
            sa.event.remove(engine, "before_cursor_execute", hook)
        statement, params = captured[-1]
        raw = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
        value = raw.scalar_one()
    plan = (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]
    return statement, list(_nodes(plan))


@pytest.mark.parametrize("backward", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize(("shape", "sort"), list(SHAPES.items()), ids=list(SHAPES))
@pytest.mark.parametrize("depth", [300, 4200], ids=["inside-non-null", "deep"])
def test_keyset_statement_uses_an_index(
    engine: sa.Engine, shape: str, sort: str, backward: bool, depth: int
) -> None:
    """No sequential scan, every scan of the table is an index scan, and no OR chain."""
    statement, nodes = _explain_own_statement(engine, sort, depth, backward)
    scans = [n for n in nodes if n.get("Relation Name") == "bk_explain_rows"]
    assert scans, nodes
    assert all(n["Node Type"] in ("Index Scan", "Index Only Scan") for n in scans), [
        (n["Node Type"], n.get("Index Name")) for n in scans
    ]
    assert not any(n["Node Type"] == "Seq Scan" for n in nodes)
    where = statement.upper().split("WHERE", 1)[1]
    assert " OR " not in where


def test_uniform_not_null_sort_uses_a_row_value_comparison(engine: sa.Engine) -> None:
    """Same direction and NOT NULL: the condition is ``(a, b, id) > (...)``."""
    statement, _ = _explain_own_statement(engine, "a,b", 300, False)
    assert "(bk_explain_rows.a, bk_explain_rows.b, bk_explain_rows.id) >" in statement


def test_mixed_direction_uses_the_expanded_form(engine: sa.Engine) -> None:
    """Mixed directions: ``a <= ? AND NOT (a = ? AND ...)``, never a row value or an OR."""
    statement, _ = _explain_own_statement(engine, "-a,b", 300, False)
    assert "bk_explain_rows.a <= " in statement
    assert "NOT (bk_explain_rows.a = " in statement
