"""NUL characters never get past an ApiModel: 400 VALIDATION_ERROR naming the field.

PostgreSQL text cannot hold U+0000: asyncpg gets SQLSTATE 22021 from the server and psycopg
refuses it on the client, both a 500 if it gets that far. Every string an ApiModel accepts,
however deep (nested models, lists, dict keys and values, optional fields, the library's own
field types), is checked; the message never repeats the submitted text. Any other text,
control characters included, still passes.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from backendkit.errors import ValidationFailed
from backendkit.fields import Email, Password
from backendkit.listing import CursorParams
from backendkit.validation import ApiModel, parse_json, validate, validate_query

NUL_MESSAGE = "Input should not contain NUL characters"


class Address(ApiModel):
    street_name: str
    city: str | None = None


class Plain(BaseModel):
    """A plain pydantic model inside an ApiModel (it has no check of its own)."""

    label: str


class Profile(ApiModel):
    display_name: str = "anonymous"
    nick: Annotated[str, Field(max_length=40)] | None = None
    tags: list[str] = Field(default_factory=list)
    pairs: tuple[str, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict)
    address: Address | None = None
    addresses: list[Address] = Field(default_factory=list)
    plain: Plain | None = None
    email: Email | None = None
    password: Password | None = None
    anything: Any = None
    age: int | None = None


def _failure(data: Any, model: type[BaseModel] = Profile) -> list[dict[str, Any]]:
    with pytest.raises(ValidationFailed) as caught:
        validate(model, data)
    error = caught.value
    assert (error.code, error.status) == ("VALIDATION_ERROR", 400)
    details = [d.to_dict() for d in error.details]
    for text in (error.message, *(d["message"] for d in details)):
        assert "\x00" not in text
        assert "secret" not in text  # never echoes the submitted value
    return details


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"displayName": "ab\x00cd"}, "displayName"),
        # Sent by its Python name: named as sent, like every other error on that field.
        ({"display_name": "secret\x00"}, "display_name"),
        ({"displayName": "\x00"}, "displayName"),
        ({"nick": "secret\x00nick"}, "nick"),
        ({"tags": ["fine", "secret\x00tag"]}, "tags"),
        ({"pairs": ["secret\x00"]}, "pairs"),
        ({"attributes": {"colour": "secret\x00red"}}, "attributes"),
        ({"attributes": {"secret\x00key": "red"}}, "attributes"),
        ({"address": {"streetName": "secret\x00street"}}, "address.streetName"),
        ({"address": {"streetName": "x", "city": "secret\x00"}}, "address.city"),
        (
            {"addresses": [{"streetName": "x"}, {"streetName": "secret\x00"}]},
            "addresses[1].streetName",
        ),
        ({"plain": {"label": "secret\x00label"}}, "plain"),
        ({"email": "secret\x00@example.com"}, "email"),
        ({"password": "secret\x00password"}, "password"),
        ({"anything": {"deep": [["secret\x00"]]}}, "anything"),
    ],
)
def test_nul_is_refused_naming_the_field(data: dict[str, Any], field: str) -> None:
    """Each place a string can hide: one detail, on the camelCase path, without the value."""
    details = _failure(data)
    assert [d["field"] for d in details] == [field]


def test_valid_twins_pass() -> None:
    """The same shapes with ordinary Unicode and other control characters validate."""
    text = "Zoë Ångström 日本語 😀 \t tab\nnewline\r\x01\x1f\x7f\u200b"
    profile = validate(
        Profile,
        {
            "displayName": text,
            "nick": "ab cd",
            "tags": [text, "x"],
            "pairs": [text],
            "attributes": {text: text},
            "address": {"streetName": text, "city": text},
            "addresses": [{"streetName": text}],
            "plain": {"label": text},
            "email": "ada@example.com",
            "password": "correct horse",
            "anything": {"deep": [[text]]},
            "age": 3,
        },
    )
    assert profile.display_name == text
    assert profile.address is not None
    assert profile.address.street_name == text


def test_every_field_with_a_nul_is_listed() -> None:
    """Several bad fields: one detail each, as for any other validation error."""
    details = _failure({"displayName": "a\x00", "tags": ["b\x00"], "age": "x"})
    assert sorted(d["field"] for d in details) == ["age", "displayName", "tags"]
    assert {d["message"] for d in details if d["field"] != "age"} == {NUL_MESSAGE}


def test_nul_from_a_parsed_json_body() -> None:
    """``"ab\\u0000cd"`` in a JSON body (the attack as sent) is refused after parsing."""
    data = parse_json(b'{"displayName": "ab\\u0000cd"}')
    assert data == {"displayName": "ab\x00cd"}
    assert _failure(data) == [{"field": "displayName", "message": NUL_MESSAGE}]


def test_nul_in_query_parameters() -> None:
    """``?q=%00`` through validate_query, and a cursor: 400 naming the parameter."""

    class Search(ApiModel):
        q: str | None = None
        tag: list[str] = Field(default_factory=list)

    with pytest.raises(ValidationFailed) as caught:
        validate_query(Search, {"q": "\x00"})
    assert [d.field for d in caught.value.details] == ["q"]
    with pytest.raises(ValidationFailed) as caught:
        validate_query(Search, [("tag", "a"), ("tag", "b\x00")])
    assert [d.field for d in caught.value.details] == ["tag"]
    assert validate_query(Search, {"q": "ann"}).q == "ann"  # the twin
    with pytest.raises(ValidationFailed) as caught:
        validate_query(CursorParams, {"cursor": "abc\x00"})
    assert [d.field for d in caught.value.details] == ["cursor"]
    assert validate_query(CursorParams, {"cursor": "abc"}).cursor == "abc"


def test_subclass_validators_still_run() -> None:
    """A model's own validators run as before, beside the NUL check."""
    from pydantic import field_validator

    class Shouty(ApiModel):
        word: str

        @field_validator("word")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    assert validate(Shouty, {"word": "hi"}).word == "HI"
    assert [d["field"] for d in _failure({"word": "h\x00i"}, Shouty)] == ["word"]


@settings(deadline=None, max_examples=200)
@given(
    before=st.text(max_size=20),
    after=st.text(max_size=20),
    field=st.sampled_from(["displayName", "nick", "tags", "attributes", "address"]),
)
def test_any_text_with_a_nul_is_refused(before: str, after: str, field: str) -> None:
    """Wherever the NUL sits in the text, the field is refused."""
    text = before + "\x00" + after
    value: Any = {
        "displayName": text,
        "nick": text[:40] if len(text) <= 40 else "\x00",
        "tags": [text],
        "attributes": {"k": text},
        "address": {"streetName": text},
    }[field]
    details = _failure({field: value})
    expected = "address.streetName" if field == "address" else field
    assert expected in [d["field"] for d in details]


@settings(deadline=None, max_examples=200)
@given(text=st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=40))
def test_any_text_without_a_nul_passes(text: str) -> None:
    """The twin: text free of NUL is accepted unchanged in every position."""
    profile = validate(Profile, {"displayName": text, "tags": [text], "attributes": {text: text}})
    assert profile.display_name == text
    assert profile.tags == [text]
