"""Sort parsing, the primary-key tie-breaker and NULL placement per dialect."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects import mysql, postgresql, sqlite

from backendkit.errors import ValidationFailed
from backendkit.listing._sort import canonical_sort, parse_sort
from backendkit.repository import SortField
from backendkit.repository._sorting import order_by_clauses, resolve_sort

T = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("score", Integer, nullable=True),
)
FIELDS = {
    "name": SortField(T.c.name),
    "score": SortField(T.c.score),
    "lower": SortField(func.lower(T.c.name)),
}


def _sql(sort: str, dialect: object) -> str:
    keys = resolve_sort(parse_sort(sort, FIELDS, default=None), FIELDS, (T.c.id,))
    stmt = select(T).order_by(*order_by_clauses(keys, dialect.name))  # type: ignore[attr-defined]
    return str(stmt.compile(dialect=dialect)).split("ORDER BY ", 1)[1]  # type: ignore[arg-type]


def test_parse_sort_names_and_directions() -> None:
    """`-` is descending, `+` or nothing ascending; whitespace is ignored."""
    assert parse_sort(" -score, +name ", FIELDS, default=None) == (("score", True), ("name", False))
    assert parse_sort(None, FIELDS, default="-name") == (("name", True),)
    assert parse_sort("", FIELDS, default=None) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("password", "can sort only by lower, name, score"),
        ("name,", "contains an empty field"),
        ("name,-name", "names 'name' more than once"),
        ("name;drop", "can sort only by lower, name, score"),
    ],
)
def test_bad_sorts_are_validation_errors_on_sort(text: str, message: str) -> None:
    """Anything not allowlisted is refused, naming `sort`."""
    with pytest.raises(ValidationFailed) as info:
        parse_sort(text, FIELDS, default=None)
    assert [(d.field, d.message) for d in info.value.details] == [("sort", message)]


def test_too_many_sort_fields() -> None:
    """At most five fields."""
    many = {f"f{i}": SortField(T.c.name) for i in range(7)}
    with pytest.raises(ValidationFailed):
        parse_sort(",".join(many), many, default=None)


def test_primary_key_tie_breaker_follows_the_last_direction() -> None:
    """The PK is appended once, in the direction of the last named field."""
    keys = resolve_sort((("name", False), ("score", True)), FIELDS, (T.c.id,))
    assert [(k.name, k.descending) for k in keys] == [
        ("name", False),
        ("score", True),
        ("_pk_id", True),
    ]
    assert canonical_sort(keys) == ["name", "-score", "-_pk_id"]
    only_pk = resolve_sort((), FIELDS, (T.c.id,))
    assert [(k.name, k.descending) for k in only_pk] == [("_pk_id", False)]
    with_pk = {"id": SortField(T.c.id)}
    assert len(resolve_sort((("id", True),), with_pk, (T.c.id,))) == 1


def test_nullability_is_detected() -> None:
    """NOT NULL columns and primary keys are not nullable; expressions are assumed to be."""
    assert FIELDS["name"].nullable is False
    assert FIELDS["score"].nullable is True
    assert FIELDS["lower"].nullable is True
    assert SortField(T.c.id).nullable is False
    assert repr(FIELDS["name"]).startswith("SortField(")


def test_nulls_last_on_postgres_and_sqlite() -> None:
    """PostgreSQL and SQLite say NULLS LAST / NULLS FIRST for nullable keys only."""
    for dialect in (postgresql.dialect(), sqlite.dialect()):
        assert _sql("score,name", dialect) == "t.score ASC NULLS LAST, t.name ASC, t.id ASC"
        assert _sql("-score", dialect) == "t.score DESC NULLS FIRST, t.id DESC"


def test_is_null_ordering_on_mysql() -> None:
    """MySQL/MariaDB get an IS NULL ordering term before each nullable key."""
    dialect = mysql.dialect()
    assert _sql("score", dialect) == "t.score IS NULL ASC, t.score ASC, t.id ASC"
    assert (
        _sql("-score,name", dialect) == "t.score IS NULL DESC, t.score DESC, t.name ASC, t.id ASC"
    )


def test_reversed_key() -> None:
    """reversed() flips only the direction."""
    (key,) = resolve_sort((("score", False),), FIELDS, ())
    assert key.reversed().descending is True
    assert key.reversed().column is key.column
