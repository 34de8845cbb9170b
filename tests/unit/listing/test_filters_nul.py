"""Filter values with a NUL character are a 400 VALIDATION_ERROR naming the field.

Query strings decode ``%00`` to U+0000; PostgreSQL cannot compare text with it (a 500 if it
got there). The framework-free parser refuses it for every operator, before any type
conversion, in one detail per field that never repeats the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.errors import ValidationFailed
from backendkit.listing._filters import OPERATORS, parse_filters

NUL_MESSAGE = "must not contain NUL characters"


@dataclass(frozen=True)
class Rule:
    """A filterable field as the parser sees it."""

    ops: frozenset[str]
    python_type: type[Any]


FIELDS = {
    "email": Rule(frozenset({"eq", "ne", "in", "search"}), str),
    "q": Rule(frozenset({"search"}), str),
    "age": Rule(frozenset({"eq", "gt", "gte", "lt", "lte", "in"}), int),
    "deletedAt": Rule(frozenset({"null"}), str),
}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"email": "\x00"}, "email"),
        ({"email": "a\x00@example.com"}, "email"),
        ({"email[ne]": "secret\x00"}, "email"),
        ({"email[in]": "a,b\x00,c"}, "email"),
        ({"email[in]": ["a", "secret\x00"]}, "email"),
        ({"email[search]": "secret\x00"}, "email"),
        ({"q[search]": "\x00"}, "q"),
        ({"age": "1\x00"}, "age"),
        ({"age[in]": "1,\x002"}, "age"),
        ({"deletedAt[null]": "true\x00"}, "deletedAt"),
    ],
)
def test_nul_in_a_filter_value_names_the_field(query: dict[str, Any], field: str) -> None:
    """Every operator: one detail on the field, without the value."""
    with pytest.raises(ValidationFailed) as caught:
        parse_filters(query, FIELDS)
    error = caught.value
    assert (error.code, error.status) == ("VALIDATION_ERROR", 400)
    assert [d.to_dict() for d in error.details] == [{"field": field, "message": NUL_MESSAGE}]
    assert "secret" not in str([d.to_dict() for d in error.details])


def test_valid_twins_parse() -> None:
    """The same filters without the NUL, and with other control characters, parse."""
    conditions = parse_filters(
        {
            "email": "a@example.com",
            "email[in]": "a,b",
            "q[search]": "Zoë\t日本",
            "age[gte]": "18",
            "deletedAt[null]": "true",
        },
        FIELDS,
    )
    assert {(c.field, c.op) for c in conditions} == {
        ("email", "eq"),
        ("email", "in"),
        ("q", "search"),
        ("age", "gte"),
        ("deletedAt", "null"),
    }


def test_nul_and_other_problems_are_listed_together() -> None:
    """A NUL in one field does not hide another field's problem."""
    with pytest.raises(ValidationFailed) as caught:
        parse_filters({"email": "\x00", "age": "old", "nope": "x"}, FIELDS)
    assert sorted(d.field or "" for d in caught.value.details) == ["age", "email", "nope"]


@settings(deadline=None, max_examples=200)
@given(
    before=st.text(max_size=10),
    after=st.text(max_size=10),
    key=st.sampled_from(["email", "email[ne]", "email[in]", "email[search]", "q[search]"]),
)
def test_any_value_with_a_nul_is_refused(before: str, after: str, key: str) -> None:
    """Wherever the NUL sits, the value is refused on its field."""
    with pytest.raises(ValidationFailed) as caught:
        parse_filters({key: before + "\x00" + after}, FIELDS)
    assert [d.field for d in caught.value.details] == [key.split("[")[0]]


def test_every_operator_is_covered() -> None:
    """The table above exercises every operator the parser knows (a new one needs a row)."""
    assert {"eq", "ne", "in", "search", "gt", "gte", "lt", "lte", "null"} == OPERATORS
