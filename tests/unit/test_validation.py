"""parse_json refuses bad bodies cleanly; validate() lists every field and never echoes input."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Annotated, Any, Literal
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Discriminator, Field, ValidationError, field_validator
from tests.strategies import arbitrary_bodies, deeply_nested, json_bodies, json_values

from backendkit.errors import (
    BadRequest,
    ConfigurationError,
    ErrorDetail,
    PayloadTooLarge,
    ValidationFailed,
)
from backendkit.fields import Email, Password
from backendkit.responses import failure, render_json
from backendkit.validation import (
    DEFAULT_MAX_DEPTH,
    ApiModel,
    error_details,
    parse_json,
    path_validator,
    validate,
    validate_query,
)

SECRET = "hunter2-Sup3rSecret!"

# --------------------------------------------------------------------------- parse_json


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": [1, 2.5, "x", true, null]}', {"a": [1, 2.5, "x", True, None]}),
        (b"[]", []),
        (b"0", 0),
        (b'"\\u00e9\\ud83d\\ude00"', "\u00e9\U0001f600"),
        ('{"name": "\u00e9"}', {"name": "\u00e9"}),
        (bytearray(b"[1]"), [1]),
        (memoryview(b"[2]"), [2]),
        (b"  {}\n", {}),
    ],
)
def test_parses_valid_json(body: Any, expected: Any) -> None:
    """Valid JSON as bytes, bytearray, memoryview or str parses to Python values."""
    assert parse_json(body) == expected


def test_size_cap_is_checked_first() -> None:
    """An oversized body is 413 even when it is also not UTF-8 and not JSON."""
    with pytest.raises(PayloadTooLarge):
        parse_json(b"\xff" * 11, max_bytes=10)
    with pytest.raises(PayloadTooLarge):
        parse_json(b"[" * 11, max_bytes=10)
    assert parse_json(b"[1,2,3,45]", max_bytes=10) == [1, 2, 3, 45]  # exactly at the cap


def test_size_cap_counts_utf8_bytes_of_text() -> None:
    """A str is measured in UTF-8 bytes: 4 characters of 3 bytes each exceed a cap of 10."""
    with pytest.raises(PayloadTooLarge):
        parse_json('"\u20ac\u20ac\u20ac"', max_bytes=10)  # 11 bytes, 5 characters
    with pytest.raises(PayloadTooLarge):
        parse_json("[" + "1," * 10 + "1]", max_bytes=10)  # too many characters
    assert parse_json('"\u20ac\u20ac"', max_bytes=10) == "\u20ac\u20ac"  # 8 bytes


def test_payload_too_large_message_names_the_limit() -> None:
    """The 413 message says what the limit is, so a client can fix the request."""
    with pytest.raises(PayloadTooLarge, match="larger than 4 bytes"):
        parse_json(b"[1,2]", max_bytes=4)


@pytest.mark.parametrize("body", [b"", b"   ", b"\n\t\r ", ""])
def test_empty_body_is_bad_request(body: bytes | str) -> None:
    """An empty (or blank) body is a 400, not a parse crash."""
    with pytest.raises(BadRequest, match="empty"):
        parse_json(body)
    assert parse_json(b" null ") is None


@pytest.mark.parametrize(
    "body",
    [
        b'"\xff"',
        b'"\xc0\xaf"',  # overlong encoding of "/"
        b'"\xed\xa0\x80"',  # a UTF-16 surrogate encoded as UTF-8
        b'"\xe2\x82"',  # truncated sequence
        b"\xff",
        "\ud800",  # str with a lone surrogate cannot be UTF-8
    ],
)
def test_invalid_utf8_is_bad_request(body: bytes | str) -> None:
    """Bytes that are not UTF-8 are refused before parsing."""
    with pytest.raises(BadRequest, match="UTF-8"):
        parse_json(body)
    assert parse_json('"\u20ac"'.encode()) == "\u20ac"


@pytest.mark.parametrize(
    ("bad", "valid_twin"),
    [
        (b'{"a": 1,}', b'{"a": 1}'),
        (b"[1, 2,]", b"[1, 2]"),
        (b"{'a': 1}", b'{"a": 1}'),
        (b'{"a": 1} x', b'{"a": 1}'),
        (b'{"a": 1}{"b": 2}', b'{"a": 1}'),
        (b"NaN", b"0"),
        (b"[Infinity]", b"[1e308]"),
        (b"[-Infinity]", b"[-1e308]"),
        (b"\xef\xbb\xbf{}", b"{}"),  # byte-order mark
        (b'{"a": 1 /* c */}', b'{"a": 1}'),
        (b'"\\ud800"', b'"\\ud83d\\ude00"'),  # lone high surrogate escape / a pair
        (b'"\\udc00"', b'"\\u00e9"'),  # lone low surrogate escape
        (b'"a\nb"', b'"a\\nb"'),  # raw control character in a string
        (b'"\\x41"', b'"\\u0041"'),
        (b"01", b"1"),
        (b"1" * 4301, b"1" * 4300),  # CPython's int(str) digit limit
        (b"{", b"{}"),
        (b"tru", b"true"),
    ],
)
def test_malformed_json_is_bad_request_and_valid_twin_parses(bad: bytes, valid_twin: bytes) -> None:
    """Malformed JSON is a 400 with a position detail; the corrected body parses."""
    with pytest.raises(BadRequest) as caught:
        parse_json(bad)
    assert caught.value.message in {
        "The request body is not valid JSON",
        "The request body is not valid UTF-8",
    }
    parse_json(valid_twin)


def test_malformed_json_detail_gives_position_without_quoting_input() -> None:
    """The detail is the parser's fixed phrase and a position, not the body's text."""
    with pytest.raises(BadRequest) as caught:
        parse_json(b'{"password": "' + SECRET.encode() + b'" oops}')
    (detail,) = caught.value.details
    assert detail.field is None
    assert "line 1 column" in detail.message
    assert SECRET not in detail.message
    assert "oops" not in detail.message


def test_overflowing_float_literal_becomes_inf_like_the_stdlib() -> None:
    """1e400 is valid JSON grammar; it parses to inf exactly as json.loads does."""
    assert parse_json(b"[1e400, -1e400]") == json.loads("[1e400, -1e400]") == [math.inf, -math.inf]


def test_duplicate_keys_last_wins_like_the_stdlib() -> None:
    """Duplicate object keys keep the last value (documented choice)."""
    assert parse_json(b'{"a": 1, "a": 2}') == json.loads('{"a": 1, "a": 2}') == {"a": 2}


@pytest.mark.parametrize("kind", ["array", "object"])
def test_nesting_at_the_limit_parses_and_one_more_level_is_refused(kind: str) -> None:
    """64 levels parse; 65 are a 400 "nested too deeply"."""
    assert parse_json(deeply_nested(DEFAULT_MAX_DEPTH, kind=kind)) is not None
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json(deeply_nested(DEFAULT_MAX_DEPTH + 1, kind=kind))


@pytest.mark.parametrize(
    "body",
    [
        deeply_nested(100_000),
        deeply_nested(100_000, kind="object"),
        b"[" * 100_000,  # never closed
        b'{"a":[' * 50_000 + b"1" + b"]}" * 50_000,
        deeply_nested(201),
        deeply_nested(300),
    ],
)
def test_very_deep_nesting_is_bad_request_not_recursion_error(body: bytes) -> None:
    """100 000 levels (closed or not) give BadRequest, never RecursionError."""
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json(body, max_bytes=len(body))
    assert parse_json(deeply_nested(10)) == parse_json(b"[[[[[[[[[[]]]]]]]]]]")


def test_max_depth_is_configurable() -> None:
    """max_depth=3 allows three levels and refuses four; up to 200 may be configured."""
    assert parse_json(b"[[[1]]]", max_depth=3) == [[[1]]]
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json(b"[[[[1]]]]", max_depth=3)
    assert parse_json(deeply_nested(200), max_depth=200) is not None
    with pytest.raises(BadRequest, match="nested too deeply"):
        parse_json(deeply_nested(201), max_depth=200)


@pytest.mark.parametrize("depth", [0, 201, -1])
def test_max_depth_outside_parser_range_is_a_programming_error(depth: int) -> None:
    """A max_depth the parser cannot honour is refused at the call."""
    with pytest.raises(ValueError, match="max_depth"):
        parse_json(b"[]", max_depth=depth)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    """Many brackets inside a string are text, not depth: the exact walk accepts them."""
    body = json.dumps({"text": "[" * 500 + "{" * 500}).encode()
    assert parse_json(body)["text"].startswith("[[[")


def test_wide_but_shallow_body_is_accepted() -> None:
    """Thousands of sibling containers are not "deep"."""
    body = json.dumps([[{"a": [i]}] for i in range(5000)]).encode()
    assert len(parse_json(body)) == 5000


@given(arbitrary_bodies)
@settings(max_examples=300)
def test_arbitrary_bytes_raise_only_bad_request_or_payload_too_large(body: bytes) -> None:
    """Whatever the bytes, parse_json returns a value or raises BadRequest/PayloadTooLarge."""
    with contextlib.suppress(BadRequest, PayloadTooLarge):
        parse_json(body, max_bytes=150)


@given(json_bodies())
def test_valid_json_parses_like_the_stdlib(body: bytes) -> None:
    """Every valid JSON body (within the limits) parses to what json.loads gives."""
    assert parse_json(body, max_bytes=len(body)) == json.loads(body)


# --------------------------------------------------------------------------- models


class Address(ApiModel):
    street: str
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$")]


class Item(ApiModel):
    qty: int = Field(ge=1, le=999)


class Cat(ApiModel):
    kind: Literal["cat"]


class Dog(ApiModel):
    kind: Literal["dog"]


class Order(ApiModel):
    email: Email
    address: Address
    items: list[Item]
    sort: Literal["asc", "desc"] = "asc"
    pet: Annotated[Cat | Dog, Discriminator("kind")] | None = None
    ref: UUID | None = None
    weight: float = 0.0


class Signup(ApiModel):
    email: Email
    password: Password
    confirm: str = ""

    @field_validator("confirm")
    @classmethod
    def _match(cls, value: str) -> str:
        if value:
            # A careless validator that quotes the value: the echo guard must catch it.
            raise ValueError(f"confirmation {value!r} does not match")
        return value


VALID_ORDER = {
    "email": "a@example.com",
    "address": {"street": "Main St", "zipCode": "12345"},
    "items": [{"qty": 1}],
}


def test_validate_returns_the_model_with_camel_and_snake_case_accepted() -> None:
    """camelCase aliases and snake_case names both validate; output uses aliases."""
    by_alias = validate(Order, VALID_ORDER)
    by_name = validate(
        Order, {**VALID_ORDER, "address": {"street": "Main St", "zip_code": "12345"}}
    )
    assert by_alias == by_name
    assert by_alias.model_dump()["address"] == {"street": "Main St", "zipCode": "12345"}


def test_lax_coercion_accepts_query_string_values() -> None:
    """Strings like "3" become ints (query strings and forms are all strings)."""
    order = validate(Order, {**VALID_ORDER, "items": [{"qty": "3"}], "weight": "1.5"})
    assert order.items[0].qty == 3
    assert order.weight == 1.5


def test_every_failing_field_is_listed_with_its_path() -> None:
    """Nested and list paths are dotted/bracketed in wire (alias) form; all errors listed."""
    with pytest.raises(ValidationFailed) as caught:
        validate(
            Order,
            {
                "address": {"street": 1, "zipCode": "abc"},
                "items": [{"qty": 1}, {"qty": "x"}, {"qty": 0}],
                "sort": "up",
                "extraField": 1,
            },
        )
    fields = [d.field for d in caught.value.details]
    assert fields == [
        "email",
        "address.street",
        "address.zipCode",
        "items[1].qty",
        "items[2].qty",
        "sort",
        "extraField",
    ]
    assert caught.value.message == "The request contains invalid fields"
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.status == 400


def test_single_failure_message_is_the_detail_message() -> None:
    """With one problem, the error message is that problem ("Email is required")."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, {k: v for k, v in VALID_ORDER.items() if k != "email"})
    assert caught.value.message == "Email is required"
    assert caught.value.details == (ErrorDetail("email", "Email is required"),)


def test_missing_nested_camel_case_field_gets_a_readable_label() -> None:
    """A missing ``zipCode`` reads "Zip code is required" at ``address.zipCode``."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, {**VALID_ORDER, "address": {"street": "x"}})
    assert caught.value.details == (ErrorDetail("address.zipCode", "Zip code is required"),)


def test_unknown_fields_are_refused() -> None:
    """extra="forbid": a typo is an error named "Unknown field"."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, {**VALID_ORDER, "emial": "x"})
    assert caught.value.details == (ErrorDetail("emial", "Unknown field"),)


def test_non_object_body_is_one_whole_body_error() -> None:
    """A list where an object is expected: field None, message without class names."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, [1, 2])
    assert caught.value.details == (ErrorDetail(None, "Input should be an object"),)


def test_non_finite_floats_are_refused_by_api_models() -> None:
    """inf (from 1e400) and nan are refused in ApiModel float fields; finite values pass."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, {**VALID_ORDER, "weight": parse_json(b"1e400")})
    assert caught.value.details[0].field == "weight"
    assert validate(Order, {**VALID_ORDER, "weight": 1e300}).weight == 1e300


@pytest.mark.parametrize(
    "patch",
    [
        {"password": SECRET + "x" * 80},  # too long
        {"password": SECRET[:5]},  # too short
        {"email": SECRET},  # not an email
        {"confirm": SECRET},  # a validator that quotes the value
        {"email": 12345678},
    ],
)
def test_error_body_never_contains_the_submitted_value(patch: dict[str, Any]) -> None:
    """The rendered error envelope holds no trace of the rejected value."""
    body = {"email": "a@example.com", "password": "long enough pw", **patch}
    with pytest.raises(ValidationFailed) as caught:
        validate(Signup, body)
    rendered = render_json(failure(caught.value, "req-1")).decode()
    assert SECRET[:5] not in rendered
    assert "12345678" not in rendered


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"pet": {"kind": SECRET}}, "pet", "Input tag does not match any of the expected tags"),
        ({"ref": SECRET}, "ref", "Input should be a valid UUID"),
        ({"sort": SECRET}, "sort", "Input should be 'asc' or 'desc'"),
    ],
)
def test_messages_that_would_quote_input_are_rewritten(
    data: dict[str, Any], field: str, message: str
) -> None:
    """Discriminator tags and UUID parse errors quote input in pydantic; ours do not."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Order, {**VALID_ORDER, **data})
    (detail,) = caught.value.details
    assert detail.field == field
    assert detail.message.startswith(message)
    assert SECRET not in detail.message
    assert SECRET[:8] not in detail.message


def test_pydantic_error_is_not_chained() -> None:
    """The ValidationError (whose text holds the input) is not attached for the logs."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Signup, {"email": "x", "password": SECRET[:5]})
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


def test_constraint_messages_equal_to_a_bound_are_kept() -> None:
    """A value that equals a bound in the message is not mistaken for an echo."""

    class Bounded(ApiModel):
        n: int = Field(lt=1000)

    with pytest.raises(ValidationFailed) as caught:
        validate(Bounded, {"n": "1000"})
    assert caught.value.details == (ErrorDetail("n", "Input should be less than 1000"),)


def test_value_error_prefix_is_dropped_from_validator_messages() -> None:
    """A custom validator's message reads as written, without "Value error, "."""

    class Pair(ApiModel):
        a: int
        b: int

        @field_validator("b")
        @classmethod
        def _b(cls, value: int) -> int:
            if value < 0:
                raise ValueError("must not be negative")
            if value == 7:
                raise AssertionError("seven is reserved")  # a plain assert is rewritten by pytest
            return value

    with pytest.raises(ValidationFailed) as caught:
        validate(Pair, {"a": 1, "b": -1})
    assert caught.value.details == (ErrorDetail("b", "must not be negative"),)
    with pytest.raises(ValidationFailed) as caught:
        validate(Pair, {"a": 1, "b": 7})
    assert caught.value.details == (ErrorDetail("b", "seven is reserved"),)
    assert validate(Pair, {"a": 1, "b": 2}).b == 2


def test_validate_works_with_plain_base_models_and_context() -> None:
    """Any pydantic model works (no aliases: Python names); context reaches validators."""

    class Plain(BaseModel):
        value: int

        @field_validator("value")
        @classmethod
        def _ctx(cls, value: int, info: Any) -> int:
            return value * (info.context or {}).get("factor", 1)

    assert validate(Plain, {"value": 2}, context={"factor": 3}).value == 6
    with pytest.raises(ValidationFailed) as caught:
        validate(Plain, {})
    assert caught.value.details == (ErrorDetail("value", "Value is required"),)


def test_error_details_accepts_error_dicts_and_dedupes() -> None:
    """error_details takes errors() dicts (from FastAPI, say) and lists each problem once."""
    errors = [
        {"type": "missing", "loc": ("body", 0), "msg": "Field required"},
        {"type": "union_tag_invalid", "loc": ["pet"], "msg": "Input tag 'x' found"},
        {"type": "union_tag_invalid", "loc": ["pet"], "msg": "Input tag 'x' found"},
        {"type": "value_error", "loc": (), "msg": "Value error, nope"},
        {"type": "custom", "loc": ("a",), "msg": f"bad {SECRET}", "input": SECRET},
    ]
    assert error_details(errors) == [
        ErrorDetail("body[0]", "Field required"),
        ErrorDetail("pet", "Input tag does not match any of the expected tags"),
        ErrorDetail(None, "nope"),
        ErrorDetail("a", "Invalid value"),
    ]


def test_error_details_accepts_any_object_with_an_errors_method() -> None:
    """FastAPI's RequestValidationError (or a wrapper) works like a ValidationError."""

    class RequestErrors:
        def errors(self) -> list[dict[str, Any]]:
            return [{"type": "missing", "loc": ("email",), "msg": "Field required"}]

    assert error_details(RequestErrors()) == [ErrorDetail("email", "Email is required")]  # type: ignore[arg-type]


def test_error_details_from_a_validation_error() -> None:
    """A ValidationError converts the same way validate() does."""
    with pytest.raises(ValidationError) as caught:
        Item.model_validate({"qty": 0})
    assert error_details(caught.value) == [
        ErrorDetail("qty", "Input should be greater than or equal to 1")
    ]


@given(json_values)
@settings(max_examples=200)
def test_validate_on_arbitrary_json_raises_only_validation_failed(data: Any) -> None:
    """Any JSON value either validates or raises ValidationFailed; details never echo text."""
    try:
        validate(Order, data)
    except ValidationFailed as exc:
        details = exc.details
        assert details
        for detail in details:
            assert isinstance(detail.message, str)
            assert detail.message


@given(arbitrary_bodies)
@settings(max_examples=300)
def test_parse_then_validate_raises_only_the_three_client_errors(body: bytes) -> None:
    """parse_json + validate on any bytes: a model or BadRequest/413/ValidationFailed."""
    with contextlib.suppress(BadRequest, PayloadTooLarge, ValidationFailed):
        validate(Signup, parse_json(body, max_bytes=150))


@given(st.text(min_size=4, max_size=40).filter(lambda t: t.strip() == t and "@" not in t))
def test_rejected_email_text_never_appears_in_details(text: str) -> None:
    """Whatever text is refused as an email, the details do not contain it."""
    with pytest.raises(ValidationFailed) as caught:
        validate(Signup, {"email": text, "password": "x"})
    for detail in caught.value.details:
        assert text not in detail.message


# --------------------------------------------------------------------------- query strings


class Search(ApiModel):
    tag: list[str] = Field(default_factory=list)
    ids: tuple[int, ...] | None = None
    per_page: int = 20
    q: str | None = None


class FakeMultiDict:
    """The getlist/keys protocol of werkzeug, Django and Starlette multi-dicts."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def keys(self) -> list[str]:
        return list(dict.fromkeys(k for k, _ in self._pairs))

    def getlist(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]


@pytest.mark.parametrize(
    "query",
    [
        [("tag", "a"), ("tag", "b"), ("perPage", "5"), ("ids", "1"), ("ids", "2")],
        {"tag": ["a", "b"], "perPage": "5", "ids": ["1", "2"]},
        FakeMultiDict([("tag", "a"), ("ids", "1"), ("tag", "b"), ("per_page", "5"), ("ids", "2")]),
    ],
)
def test_validate_query_collects_lists_and_coerces_scalars(query: Any) -> None:
    """Pairs, mappings and multi-dicts: list fields get every value, scalars one."""
    result = validate_query(Search, query)
    assert result == Search(tag=["a", "b"], per_page=5, ids=(1, 2))


def test_validate_query_single_value_for_a_list_field() -> None:
    """A list field given once is a one-item list; a mapping scalar is wrapped."""
    assert validate_query(Search, {"tag": "a", "perPage": 7}).tag == ["a"]


def test_repeated_scalar_parameter_is_refused() -> None:
    """perPage=5&perPage=6 is a validation error, not a silent first-or-last pick."""
    with pytest.raises(ValidationFailed) as caught:
        validate_query(Search, [("perPage", "5"), ("perPage", "6")])
    assert caught.value.details == (ErrorDetail("perPage", "Only one value is allowed"),)
    assert validate_query(Search, [("perPage", "6")]).per_page == 6


def test_repeated_parameter_errors_combine_with_other_errors() -> None:
    """A repeated scalar and an unknown key are both reported."""
    with pytest.raises(ValidationFailed) as caught:
        validate_query(Search, [("q", "1"), ("q", "2"), ("zz", "1"), ("zz", "2")])
    assert caught.value.details == (
        ErrorDetail("q", "Only one value is allowed"),
        ErrorDetail("zz", "Unknown field"),
    )


def test_validate_query_with_plain_model_and_optional_annotated_list() -> None:
    """Models without aliases work; ``Annotated[list[...], ...] | None`` is a list field."""

    class Plain(BaseModel):
        tags: Annotated[list[str], Field(max_length=3)] | None = None
        page: int = 1

    assert validate_query(Plain, [("tags", "a"), ("tags", "b"), ("page", "2")]) == Plain(
        tags=["a", "b"], page=2
    )


def test_scalar_root_with_many_brackets_in_text_parses() -> None:
    """A top-level string full of brackets passes the depth check (it is not nested)."""
    assert parse_json(b'"' + b"[" * 100 + b'"') == "[" * 100


def test_repeated_parameter_alone_reports_only_itself() -> None:
    """When the rest of the query is valid, only the repetition is reported."""

    class Required(ApiModel):
        page: int

    with pytest.raises(ValidationFailed) as caught:
        validate_query(Required, [("page", "1"), ("page", "2")])
    assert caught.value.details == (ErrorDetail("page", "Only one value is allowed"),)


def test_path_validator_refuses_a_parameter_the_url_pattern_does_not_name() -> None:
    """A declared parameter missing from the captured values is a wiring mistake, said as one;
    the twin with the parameter captured converts it."""
    check = path_validator({"note_id": int})
    with pytest.raises(ConfigurationError, match="no 'note_id' in the URL pattern"):
        check({"id": "7"})
    assert check({"note_id": "7"}) == {"note_id": 7}
