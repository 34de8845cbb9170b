"""Keyset pages on MySQL/MariaDB split a nullable leading key into index-served parts.

Without ``NULLS FIRST/LAST`` the order ``a IS NULL, a, id`` cannot be read from an index on
``(a, id)``; each part orders by what its WHERE leaves variable instead. The databases'
answers are checked by the integration walks (tests/integration/repository/
test_cursor_walk.py, MariaDB with PyMySQL and asyncmy); these tests pin the SQL shape.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.dialects import mysql, postgresql

from backendkit.listing._sort import parse_sort
from backendkit.repository import SortField
from backendkit.repository._sorting import resolve_sort
from backendkit.repository._statements import RepositorySpec, Statements

T = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("a", Integer, nullable=False),
    Column("n", Integer, nullable=True),
)
FIELDS = {name: SortField(T.c[name]) for name in ("a", "n")}
SPEC: RepositorySpec[object] = RepositorySpec(
    model=T,  # type: ignore[arg-type]
    primary_key=(T.c.id,),
    primary_key_names=("id",),
    filters={},
    sorts=FIELDS,
    default_sort=None,
    columns=frozenset({"id", "a", "n"}),
)


def _page_sql(dialect_name: str, sort: str, values: list[object] | None) -> str:
    statements = Statements(SPEC, dialect_name)
    keys = resolve_sort(parse_sort(sort, FIELDS, default=None), FIELDS, (T.c.id,))
    stmt, _ = statements.keyset_page(statements.base(), keys, values, 21)
    dialect = mysql.dialect() if dialect_name == "mysql" else postgresql.dialect()
    return " ".join(str(stmt.compile(dialect=dialect)).split())


def _branch_orders(sql: str) -> list[tuple[str, str]]:
    """(WHERE, ORDER BY) of each UNION ALL branch, or of the page itself when there is none."""
    parts = sql.split(" UNION ALL ") if "UNION ALL" in sql else [sql]
    found = []
    for part in parts:
        match = re.search(r"WHERE (.*?) ORDER BY (.*?) LIMIT", part)
        assert match is not None, part
        found.append((match.group(1), match.group(2)))
    return found


@pytest.mark.parametrize(
    ("sort", "direction"),
    [("n", "ASC"), ("-n", "DESC")],
)
def test_first_page_is_two_index_ranges_on_mysql(sort: str, direction: str) -> None:
    """The non-NULL rows ordered by (n, id), the NULL rows by id; no IS NULL term in either."""
    sql = _page_sql("mysql", sort, None)
    assert _branch_orders(sql) == [
        ("t.n IS NOT NULL", f"t.n {direction}, t.id {direction}"),
        ("t.n IS NULL", f"t.id {direction}"),
    ]
    # The outer query merges the parts in the one order every database shares.
    outer = f"ORDER BY t.n IS NULL {direction}, t.n {direction}, t.id {direction} LIMIT %s"
    assert sql.endswith(outer)


@pytest.mark.parametrize(
    ("sort", "cursor", "expected"),
    [
        # After a value: the rest of the values, then (ascending) the NULLs.
        ("n", [5, 7], [("t.n ASC, t.id ASC", "t.n >="), ("t.id ASC", "t.n IS NULL")]),
        ("-n", [5, 7], [("t.n DESC, t.id DESC", "t.n <=")]),
        # Inside the NULLs: the NULLs after the id, then (descending) every value.
        ("n", [None, 7], [("t.id ASC", "t.n IS NULL AND t.id >")]),
        (
            "-n",
            [None, 7],
            [("t.id DESC", "t.n IS NULL AND t.id <"), ("t.n DESC, t.id DESC", "t.n IS NOT NULL")],
        ),
    ],
)
def test_each_piece_after_a_cursor_is_ordered_for_its_index(
    sort: str, cursor: list[object], expected: list[tuple[str, str]]
) -> None:
    """A piece holds only values or only NULLs of n: ordered without the IS NULL term."""
    branches = _branch_orders(_page_sql("mysql", sort, cursor))
    assert len(branches) == len(expected)
    for (where, order), (wanted_order, where_start) in zip(branches, expected, strict=True):
        assert order == wanted_order
        assert where.startswith(where_start), where


def test_postgresql_and_not_null_keys_keep_one_statement() -> None:
    """The valid twins: NULLS LAST serves the index on PostgreSQL; a NOT NULL key needs no split."""
    postgres = _page_sql("postgresql", "n", None)
    assert "UNION" not in postgres
    assert "ORDER BY t.n ASC NULLS LAST, t.id ASC" in postgres
    not_null = _page_sql("mysql", "a", None)
    assert "UNION" not in not_null
    assert "IS NULL" not in not_null
