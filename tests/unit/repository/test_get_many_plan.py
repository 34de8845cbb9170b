"""get_many's I/O-free plan: typed, de-duplicated ids, the statements per dialect, the
chunks, the order of the rows and the missing ids named without echoing client text."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.errors import ValidationFailed
from backendkit.repository import Repository
from backendkit.repository._many import (
    NAMED_AT_MOST,
    ManyPlan,
    ids_per_statement,
    missing_error,
    plan_many,
)
from backendkit.repository._statements import Statements


class _Base(DeclarativeBase):
    metadata = sa.MetaData()


class Thing(_Base):
    __tablename__ = "things"
    id: Mapped[int] = mapped_column(primary_key=True)


class Pair(_Base):
    __tablename__ = "pairs"
    org: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    num: Mapped[int] = mapped_column(primary_key=True)


class Token(_Base):
    __tablename__ = "tokens"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)


class Opaque(sa.types.UserDefinedType[Any]):
    """A custom column type that says nothing about its Python values."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "OPAQUE"


class Odd(_Base):
    __tablename__ = "odds"
    id: Mapped[Any] = mapped_column(Opaque, primary_key=True)


class Things(Repository[Thing]):
    pass


class Pairs(Repository[Pair]):
    pass


class Tokens(Repository[Token]):
    pass


class Odds(Repository[Odd]):
    pass


DIALECTS: dict[str, sa.Dialect] = {
    "postgresql": postgresql.psycopg.dialect(),  # type: ignore[no-untyped-call]
    "sqlite": sqlite.pysqlite.dialect(),
    "mysql": mysql.pymysql.dialect(),
}


def _statements(repo: type[Repository[Any]], dialect: str) -> Statements[Any]:
    return repo._statements_for(dialect)


def _sql(repo: type[Repository[Any]], dialect: str) -> str:
    stmt = _statements(repo, dialect).by_identities()
    return str(stmt.compile(dialect=DIALECTS[dialect]))


def test_postgresql_binds_one_array_elsewhere_an_in_list() -> None:
    """One ``= ANY`` array parameter on PostgreSQL; an expanding IN on SQLite and MySQL."""
    assert "things.id = ANY (%(_bk_ids)s::INTEGER[])" in _sql(Things, "postgresql")
    for dialect in ("sqlite", "mysql"):
        assert "things.id IN (__[POSTCOMPILE__bk_ids])" in _sql(Things, dialect)
        assert "ANY" not in _sql(Things, dialect)


def test_a_composite_key_binds_one_array_per_column_on_postgresql() -> None:
    """``(org, num) IN (SELECT ... FROM unnest(:ids0, :ids1))``; row values elsewhere."""
    sql = _sql(Pairs, "postgresql")
    assert "(pairs.org, pairs.num) IN (SELECT" in sql
    assert "unnest(%(_bk_ids0)s::VARCHAR(10)[], %(_bk_ids1)s::INTEGER[])" in sql
    plan = plan_many(_statements(Pairs, "postgresql"), [("a", 1), ("b", 2)], 1)
    assert plan.batches == ({"_bk_ids0": ["a", "b"], "_bk_ids1": [1, 2]},)
    assert "(pairs.org, pairs.num) IN (__[POSTCOMPILE__bk_ids])" in _sql(Pairs, "sqlite")


def test_the_statement_is_built_once_per_soft_delete_choice() -> None:
    """The same Select object is reused: SQLAlchemy's compiled cache hits every call."""
    statements = _statements(Things, "sqlite")
    assert statements.by_identities() is statements.by_identities()
    assert statements.by_identities() is not statements.by_identities(include_deleted=True)


def test_chunk_sizes_per_dialect() -> None:
    """PostgreSQL never chunks; SQLite fits its host-parameter limit, per key column."""
    assert ids_per_statement("postgresql", 1, 2) is None
    assert ids_per_statement("mysql", 1, 50_000) == 50_000
    assert ids_per_statement("sqlite", 1, 10_000) == 10_000
    limit = ids_per_statement("sqlite", 1, 10**9)
    assert limit in (999, 32_766)
    assert ids_per_statement("sqlite", 4, 10**9) == (limit or 0) // 4
    assert ids_per_statement("mysql", 1, 0) == 1  # a zero chunk size still makes progress


def test_plan_chunks_elsewhere_and_not_on_postgresql() -> None:
    """Five distinct ids, two per statement: three batches; one on PostgreSQL."""
    ids = [5, 1, 5, 4, 2, 3, 1]
    sqlite_plan = plan_many(_statements(Things, "sqlite"), ids, 2)
    assert sqlite_plan.ids == (5, 1, 4, 2, 3)
    assert sqlite_plan.positions == (0, 1, 3, 4, 5)
    assert [b["_bk_ids"] for b in sqlite_plan.batches] == [[5, 1], [4, 2], [3]]
    pg_plan = plan_many(_statements(Things, "postgresql"), ids, 2)
    assert pg_plan.batches == ({"_bk_ids": [5, 1, 4, 2, 3]},)
    assert plan_many(_statements(Things, "postgresql"), [], 2).batches == ()


def test_ids_are_typed_before_being_compared() -> None:
    """Digits read as integers, a UUID's text as a UUID; the typed ids are de-duplicated."""
    plan = plan_many(_statements(Things, "sqlite"), ["7", 7, 7.0], 10)
    assert plan.ids == (7,)
    token = uuid.uuid4()
    plan = plan_many(_statements(Tokens, "sqlite"), [str(token), token], 10)
    assert plan.ids == (token,)
    with pytest.raises(ValidationFailed) as caught:
        plan_many(_statements(Tokens, "sqlite"), ["not-a-uuid"], 10)
    assert [(d.field, d.message) for d in caught.value.details] == [
        ("ids[0]", "must be a valid UUID")
    ]


def test_a_type_without_a_python_type_passes_values_as_given() -> None:
    """A custom column type: ids are not converted, but lists are still refused."""
    plan = plan_many(_statements(Odds, "sqlite"), ["x", 1, "x"], 10)
    assert plan.ids == ("x", 1)
    with pytest.raises(ValidationFailed) as caught:
        plan_many(_statements(Odds, "sqlite"), ["x", [1]], 10)
    assert [(d.field, d.message) for d in caught.value.details] == [
        ("ids[1]", "must be a valid value")
    ]


def _row(**values: Any) -> Any:
    return SimpleNamespace(**values)


def test_rows_come_back_in_the_order_asked_each_once() -> None:
    """Rows arrive in any order and possibly twice (two chunks); each is placed once."""
    plan = ManyPlan(ids=(3, 1, 2), positions=(0, 1, 3), batches=())
    one, three = _row(id=1), _row(id=3)
    rows, absent = plan.match([one, three, one], lambda obj: obj.id)
    assert rows == [three, one]
    assert absent == [2]


def test_folding_applies_only_to_rows_that_match_no_id_exactly() -> None:
    """A row the database matched case-insensitively answers the id; on an exact database
    (every row equals some id) a differently cased id stays missing."""
    plan = ManyPlan(ids=("ABC", "x "), positions=(0, 1), batches=())
    abc, x = _row(id="abc"), _row(id="x")
    rows, absent = plan.match([abc, x], lambda obj: obj.id)
    assert (rows, absent) == ([abc, x], [])
    exact = ManyPlan(ids=("abc", "ABC"), positions=(0, 1), batches=())
    rows, absent = exact.match([abc], lambda obj: obj.id)
    assert (rows, absent) == ([abc], [1])


def test_missing_ids_are_named_without_echoing_client_text() -> None:
    """Numbers, UUIDs and identifier-shaped text are shown; other text is only positioned."""
    token = uuid.uuid4()
    plan = ManyPlan(
        ids=(7, token, "<script>", "ok-id", ("a", 1)), positions=(0, 2, 3, 4, 6), batches=()
    )
    error = missing_error("Thing", plan, [0, 1, 2, 3, 4])
    assert [(d.field, d.message) for d in error.details] == [
        ("ids[0]", "Thing 7 not found"),
        ("ids[2]", f"Thing {token} not found"),
        ("ids[3]", "Thing not found"),
        ("ids[4]", "Thing ok-id not found"),
        ("ids[6]", "Thing (a, 1) not found"),
    ]
    assert "<script>" not in f"{error.message} {error.details}"


def test_invalid_ids_are_named_without_echoing_them() -> None:
    """A refused id is named by position only; its text never appears."""
    with pytest.raises(ValidationFailed) as caught:
        plan_many(_statements(Things, "sqlite"), [1, "<b>secret</b>"], 10)
    assert [(d.field, d.message) for d in caught.value.details] == [
        ("ids[1]", "must be a valid integer")
    ]
    assert "secret" not in f"{caught.value.message} {caught.value.details}"


@settings(deadline=None, max_examples=200)
@given(
    asked=st.lists(st.integers(-5, 30), max_size=40),
    present=st.sets(st.integers(-5, 30)),
    chunk=st.integers(1, 7),
    dialect=st.sampled_from(["sqlite", "mysql", "postgresql"]),
)
def test_plan_and_match_agree_with_a_naive_model(
    asked: list[int], present: set[int], chunk: int, dialect: str
) -> None:
    """Every distinct id is sent once, in chunks no larger than asked (one batch on
    PostgreSQL); the rows are the present ids in first-asked order; the rest are missing."""
    plan = plan_many(_statements(Things, dialect), asked, chunk)
    distinct = list(dict.fromkeys(asked))
    sent = [ident for batch in plan.batches for ident in batch["_bk_ids"]]
    assert sent == distinct
    if dialect == "postgresql":
        assert len(plan.batches) == (1 if distinct else 0)
    else:
        assert all(len(batch["_bk_ids"]) <= chunk for batch in plan.batches)
    found = [_row(id=ident) for ident in reversed(distinct) if ident in present]
    rows, absent = plan.match(found, lambda obj: obj.id)
    assert [row.id for row in rows] == [ident for ident in distinct if ident in present]
    assert [plan.ids[i] for i in absent] == [ident for ident in distinct if ident not in present]
    if len(absent) > NAMED_AT_MOST:
        assert len(missing_error("Thing", plan, absent).details) == NAMED_AT_MOST + 1
