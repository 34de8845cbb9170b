"""Filter parsing: allowlisted fields and operators, typed values, errors naming the field."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Uuid,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from backendkit.errors import ValidationFailed
from backendkit.listing._filters import parse_filters
from backendkit.repository import FilterField
from backendkit.repository._filters import condition_clause

T = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("age", Integer),
    Column("price", Numeric(10, 2)),
    Column("active", Boolean),
    Column("born", Date),
    Column("seen", DateTime),
    Column("ref", Uuid),
)

FIELDS = {
    "name": FilterField(T.c.name, "eq", "in", "search", "ne"),
    "age": FilterField(T.c.age, "eq", "gt", "gte", "lt", "lte", "null", "in"),
    "price": FilterField(T.c.price, "gte"),
    "active": FilterField(T.c.active),
    "born": FilterField(T.c.born, "lt"),
    "seen": FilterField(T.c.seen, "gte"),
    "ref": FilterField(T.c.ref),
}


def test_values_are_typed_from_the_column() -> None:
    """Strings from a query string become ints, decimals, booleans, dates, UUIDs."""
    ref = uuid.uuid4()
    conditions = parse_filters(
        {
            "age[gte]": "18",
            "price[gte]": "9.50",
            "active": "true",
            "born[lt]": "2000-01-31",
            "seen[gte]": "2024-05-01T10:00:00Z",
            "ref": str(ref),
        },
        FIELDS,
    )
    values = {c.field: c.value for c in conditions}
    assert values == {
        "age": 18,
        "price": Decimal("9.50"),
        "active": True,
        "born": dt.date(2000, 1, 31),
        "seen": dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc),
        "ref": ref,
    }


def test_in_accepts_commas_repeated_keys_and_python_lists() -> None:
    """``in`` takes "a,b", ["a", "b"] (a repeated key) or typed values."""
    for raw in ("1,2,3", ["1", "2,3"], [1, 2, 3], (1, 2, 3)):
        (condition,) = parse_filters({"age[in]": raw}, FIELDS)
        assert condition.value == (1, 2, 3)


def test_order_is_canonical() -> None:
    """The same filters in any order parse to the same tuple (cursor bindings rely on it)."""
    a = parse_filters({"age[gte]": "1", "name": "x"}, FIELDS)
    b = parse_filters({"name": "x", "age[gte]": "1"}, FIELDS)
    assert a == b


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"password": "x"}, "password", "is not a filterable field"),
        ({"age[like]": "1"}, "age", "does not support the 'like' operator"),
        ({"age[gte]": "old"}, "age", "must be a valid integer"),
        ({"price[gte]": "cheap"}, "price", "must be a valid number"),
        ({"active": "perhaps"}, "active", "must be a valid boolean"),
        ({"age[null]": "sometimes"}, "age", "must be true or false"),
        ({"name[search]": ""}, "name", "must be a non-empty string"),
        ({"name[search]": "x" * 201}, "name", "must be at most 200 characters"),
        ({"age[in]": ","}, "age", "expects at least one value"),
        ({"age[in]": ",".join(["1"] * 101)}, "age", "accepts at most 100 values"),
        ({"age[gte]": ["1", "2"]}, "age", "expects a single value"),
        ({"age[GTE]": "1"}, "age[GTE]", "is not a filterable field"),
        # Keys not shaped like a field name are not shown back: the client's own text.
        ({"x" * 100: "1"}, None, "A query parameter is not a filterable field"),
        ({"<script>alert(1)</script>": "1"}, None, "A query parameter is not a filterable field"),
        ({"na\x00me": "1"}, None, "A query parameter is not a filterable field"),
        ({"a b": "1"}, None, "A query parameter is not a filterable field"),
    ],
)
def test_invalid_filters_name_the_field(
    query: dict[str, object], field: str | None, message: str
) -> None:
    """Each kind of bad input is a VALIDATION_ERROR whose detail names the field."""
    with pytest.raises(ValidationFailed) as info:
        parse_filters(query, FIELDS)
    assert [(d.field, d.message) for d in info.value.details] == [(field, message)]


def test_unnamed_keys_give_one_detail_beside_the_named_ones() -> None:
    """Keys not shaped like field names are one unnamed detail; named problems stay apart."""
    with pytest.raises(ValidationFailed) as info:
        parse_filters({"<a>": "1", "b c": "2", "password": "3", "age": "x"}, FIELDS)
    assert [(d.field, d.message) for d in info.value.details] == [
        (None, "A query parameter is not a filterable field"),
        ("password", "is not a filterable field"),
        ("age", "must be a valid integer"),
    ]


def test_every_problem_is_reported_at_once() -> None:
    """Several bad keys give several details."""
    with pytest.raises(ValidationFailed) as info:
        parse_filters({"nope": "1", "age[gte]": "x", "name": "fine"}, FIELDS)
    assert sorted(d.field or "" for d in info.value.details) == ["age", "nope"]


def test_reserved_paging_keys_are_skipped() -> None:
    """page, perPage, sort and cursor are not filters."""
    assert parse_filters({"page": "2", "perPage": "5", "sort": "-x", "cursor": "c"}, FIELDS) == ()


def test_unknown_operator_in_a_definition_is_refused() -> None:
    """A typo in the allowlist fails at definition time."""
    with pytest.raises(ValueError, match="unknown filter operators"):
        FilterField(T.c.age, "gte", "greater")


@given(st.text(st.characters(blacklist_characters="\x00"), max_size=40))
def test_user_text_never_reaches_sql_text(text: str) -> None:
    """Whatever the client sends, the SQL text is the same: the value is only a parameter.

    (NUL is refused before any SQL is built: tests/unit/listing/test_filters_nul.py.)
    """

    def sql(value: str, op: str, dialect: object) -> str:
        key = "name" if op == "eq" else f"name[{op}]"
        (condition,) = parse_filters({key: value}, FIELDS)
        return str(condition_clause(condition, FIELDS["name"]).compile(dialect=dialect))  # type: ignore[arg-type]

    for op in ("eq", "search", "ne"):
        if op == "search" and not 0 < len(text) <= 200:
            continue
        for dialect in (postgresql.dialect(), sqlite.dialect(), mysql.dialect()):
            assert sql(text, op, dialect) == sql("placeholder", op, dialect)


def test_search_escapes_like_wildcards() -> None:
    """The search pattern escapes %, _ and the escape character, on every dialect."""
    (condition,) = parse_filters({"name[search]": "50%_off/"}, FIELDS)
    clause = condition_clause(condition, FIELDS["name"])
    compiled = clause.compile(dialect=postgresql.dialect())
    assert "ESCAPE '/'" in str(compiled)
    assert "50/%/_off//" in compiled.params.values()


def test_operators_build_the_expected_sql() -> None:
    """Each operator compiles to its SQL form."""
    cases = {
        "age": "t.age = ",
        "age[gt]": "t.age > ",
        "age[gte]": "t.age >= ",
        "age[lt]": "t.age < ",
        "age[lte]": "t.age <= ",
        "age[in]": "t.age IN ",
        "name[ne]": "t.name != ",
    }
    for key, expected in cases.items():
        (condition,) = parse_filters({key: "1"}, FIELDS)
        assert expected in str(condition_clause(condition, FIELDS[condition.field]).compile())
    (null,) = parse_filters({"age[null]": "true"}, FIELDS)
    assert str(condition_clause(null, FIELDS["age"]).compile()) == "t.age IS NULL"
    (not_null,) = parse_filters({"age[null]": "0"}, FIELDS)
    assert str(condition_clause(not_null, FIELDS["age"]).compile()) == "t.age IS NOT NULL"
    (eq_none,) = parse_filters({"age": None}, {"age": FilterField(T.c.age, python_type=type(None))})
    assert str(condition_clause(eq_none, FIELDS["age"]).compile()) == "t.age IS NULL"
    assert "OR" in str(
        condition_clause(parse_filters({"name[ne]": "x"}, FIELDS)[0], FIELDS["name"]).compile()
    )
    assert repr(FIELDS["age"]).startswith("FilterField(")
