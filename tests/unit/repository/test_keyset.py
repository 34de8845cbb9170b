"""Keyset conditions: row values only when allowed, expanded form otherwise, never OR chains."""

from __future__ import annotations

import itertools
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, or_, select
from sqlalchemy.dialects import mysql, postgresql, sqlite

from backendkit.listing._sort import parse_sort
from backendkit.repository import SortField
from backendkit.repository._keyset import keyset_pieces
from backendkit.repository._sorting import order_by_clauses, resolve_sort

T = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("a", Integer, nullable=False),
    Column("b", Integer, nullable=False),
    Column("n", Integer, nullable=True),
    Column("m", Integer, nullable=True),
)
FIELDS = {name: SortField(T.c[name]) for name in ("a", "b", "n", "m")}


def _keys(sort: str) -> tuple:
    return resolve_sort(parse_sort(sort, FIELDS, default=None), FIELDS, (T.c.id,))


def _sql(pieces: list, dialect: object) -> list[str]:
    return [str(p.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for p in pieces]  # type: ignore[arg-type]


def test_row_value_only_for_uniform_not_null_sorts_where_supported() -> None:
    """(a, b, id) > (...) on PostgreSQL and SQLite; the expanded form on MySQL."""
    keys = _keys("a,b")
    assert _sql(keyset_pieces(keys, [1, 2, 3], dialect="postgresql"), postgresql.dialect()) == [
        "(t.a, t.b, t.id) > (1, 2, 3)"
    ]
    assert _sql(
        keyset_pieces(keys, [1, 2, 3], dialect="sqlite", inclusive=True), sqlite.dialect()
    ) == ["(t.a, t.b, t.id) >= (1, 2, 3)"]
    desc = _keys("-a")
    assert _sql(keyset_pieces(desc, [1, 3], dialect="postgresql"), postgresql.dialect()) == [
        "(t.a, t.id) < (1, 3)"
    ]
    assert _sql(
        keyset_pieces(desc, [1, 3], dialect="postgresql", inclusive=True), postgresql.dialect()
    ) == ["(t.a, t.id) <= (1, 3)"]
    (expanded,) = _sql(keyset_pieces(keys, [1, 2, 3], dialect="mysql"), mysql.dialect())
    assert (
        expanded == "t.a >= 1 AND NOT (t.a = 1 AND NOT (t.b >= 2 AND NOT (t.b = 2 AND t.id <= 3)))"
    )


def test_mixed_directions_use_the_expanded_form() -> None:
    """-a,b: ``a <= ? AND NOT (a = ? AND ...)``."""
    (sql,) = _sql(
        keyset_pieces(_keys("-a,b"), [5, 2, 9], dialect="postgresql"), postgresql.dialect()
    )
    assert sql == "t.a <= 5 AND NOT (t.a = 5 AND NOT (t.b >= 2 AND NOT (t.b = 2 AND t.id <= 9)))"


def test_nullable_keys_add_null_pieces() -> None:
    """Ascending with a value: the NULL rows after it are their own index range."""
    pieces = _sql(keyset_pieces(_keys("n"), [4, 7], dialect="postgresql"), postgresql.dialect())
    assert pieces == ["t.n >= 4 AND NOT (t.n = 4 AND t.id <= 7)", "t.n IS NULL"]
    at_null = _sql(keyset_pieces(_keys("n"), [None, 7], dialect="postgresql"), postgresql.dialect())
    assert at_null == ["t.n IS NULL AND t.id > 7"]
    desc_null = _sql(
        keyset_pieces(_keys("-n"), [None, 7], dialect="postgresql"), postgresql.dialect()
    )
    assert desc_null == ["t.n IS NULL AND t.id < 7", "t.n IS NOT NULL"]
    desc_value = _sql(
        keyset_pieces(_keys("-n"), [4, 7], dialect="postgresql"), postgresql.dialect()
    )
    assert desc_value == ["t.n <= 4 AND NOT (t.n = 4 AND t.id >= 7)"]


def test_pieces_never_contain_or() -> None:
    """No piece is an OR chain, for any shape, value or dialect."""
    for sort in ("a", "n,a", "-n,m", "m,-n,b", "-a,-b"):
        keys = _keys(sort)
        for values in itertools.product([None, 1], repeat=len(keys) - 1):
            if any(v is None and not k.nullable for k, v in zip(keys, values, strict=False)):
                continue
            for dialect in (postgresql.dialect(), mysql.dialect(), sqlite.dialect()):
                for piece in _sql(keyset_pieces(keys, [*values, 3], dialect=dialect.name), dialect):
                    assert " OR " not in piece


def test_value_count_must_match() -> None:
    """One value per key."""
    with pytest.raises(ValueError, match="one cursor value"):
        keyset_pieces(_keys("a"), [1], dialect="postgresql")


VALUE = st.one_of(st.none(), st.integers(0, 3))


@settings(max_examples=150)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), VALUE, VALUE), min_size=1, max_size=25
    ),
    sort=st.sampled_from(["a", "-a", "n", "-n", "n,m", "-n,m", "n,-m", "a,-n", "-m,b,n"]),
    pick=st.integers(0, 10**6),
    inclusive=st.booleans(),
)
def test_pieces_select_exactly_the_rows_after_the_cursor(
    rows: list[tuple[int, int, int | None, int | None]], sort: str, pick: int, inclusive: bool
) -> None:
    """On real SQLite: the union of the pieces is the ORDER BY suffix after the cursor row."""
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        T.create(conn)
        conn.execute(
            insert(T),
            [{"id": i, "a": a, "b": b, "n": n, "m": m} for i, (a, b, n, m) in enumerate(rows)],
        )
        keys = _keys(sort)
        order = order_by_clauses(keys, "sqlite")
        ordered = conn.execute(select(T).order_by(*order)).all()
        index = pick % len(ordered)
        cursor_row = ordered[index]
        values = [cursor_row._mapping[k.column.key] for k in keys]
        for dialect in ("sqlite", "mysql"):  # row values and the expanded form
            pieces = keyset_pieces(keys, values, dialect=dialect, inclusive=inclusive)
            found = conn.execute(select(T).where(or_(*pieces)).order_by(*order)).all()
            expected = ordered[index:] if inclusive else ordered[index + 1 :]
            assert [r.id for r in found] == [r.id for r in expected]
    engine.dispose()
    assert sqlite3.sqlite_version_info >= (3, 30)
