"""Field types: normalized email, byte-counted password, ids; no error echoes the value."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backendkit.errors import ErrorDetail, ValidationFailed
from backendkit.fields import (
    EMAIL_MAX_LENGTH,
    Email,
    Password,
    PasswordPolicy,
    PositiveId,
    UUIDStr,
    normalize_email,
    password_field,
)
from backendkit.validation import ApiModel, validate


class Account(ApiModel):
    email: Email | None = None
    password: Password | None = None
    id: PositiveId | None = None
    ref: UUIDStr | None = None


def _detail(data: dict[str, Any]) -> ErrorDetail:
    with pytest.raises(ValidationFailed) as caught:
        validate(Account, data)
    (detail,) = caught.value.details
    return detail


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM \n", "ada.lovelace@example.com"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ("user@example.xn--p1ai", "user@example.xn--p1ai"),
        ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ],
)
def test_valid_emails_are_normalized(raw: str, normalized: str) -> None:
    """Surrounding whitespace is stripped and the whole address lower-cased."""
    assert validate(Account, {"email": raw}).email == normalized
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    ("bad", "valid_twin"),
    [
        ("plainaddress", "plain@address.io"),
        ("@example.com", "a@example.com"),
        ("a@", "a@example.com"),
        ("a@localhost", "a@localhost.dev"),  # one label
        ("a@example.c", "a@example.co"),  # one-letter TLD
        ("a@example.123", "a@example.io"),  # numeric TLD
        ("a..b@example.com", "a.b@example.com"),
        (".a@example.com", "a@example.com"),
        ("a.@example.com", "a@example.com"),
        ("a b@example.com", "ab@example.com"),
        ('"a b"@example.com', "ab@example.com"),  # quoted local parts are not accepted
        ("a@-example.com", "a@example.com"),
        ("a@example-.com", "a@example.com"),
        ("a@exa_mple.com", "a@example.com"),
        ("a@@example.com", "a@example.com"),
        ("a@example..com", "a@example.com"),
        ("jos\u00e9@example.com", "jose@example.com"),  # non-ASCII (use punycode domains)
        ("a@b\u00fccher.example", "a@xn--bcher-kva.example"),
        ("a" * 65 + "@example.com", "a" * 64 + "@example.com"),  # local part > 64
        ("a@" + "b" * 64 + ".com", "a@" + "b" * 63 + ".com"),  # label > 63
        ("a@example.com\x00", "a@example.com"),
    ],
)
def test_invalid_emails_are_refused_and_valid_twin_passes(bad: str, valid_twin: str) -> None:
    """A conservative check: dot-atom local part, host name with a real TLD."""
    assert _detail({"email": bad}) == ErrorDetail("email", "Input should be a valid email address")
    assert validate(Account, {"email": valid_twin}).email == valid_twin


def test_email_length_limit_is_254() -> None:
    """254 characters pass, 255 do not (RFC 5321 path limit)."""
    domain = ".".join(["d" * 60] * 4)[: EMAIL_MAX_LENGTH - 3] + ".io"
    ok = "a@" + domain[-(EMAIL_MAX_LENGTH - 2) :].lstrip(".-")
    ok = "a" * (EMAIL_MAX_LENGTH - len(ok)) + ok
    assert len(ok) == EMAIL_MAX_LENGTH
    assert validate(Account, {"email": ok}).email == ok
    assert _detail({"email": "a" + ok}).field == "email"


def test_email_must_be_a_string() -> None:
    """Numbers are not coerced to an address."""
    assert _detail({"email": 123}) == ErrorDetail("email", "Input should be a valid string")


def test_email_json_schema_has_format_and_max_length() -> None:
    """OpenAPI shows ``format: email`` and the length limit."""
    schema = Account.model_json_schema()["properties"]["email"]["anyOf"][0]
    assert schema == {"type": "string", "format": "email", "maxLength": 254}


@given(st.text(max_size=80))
def test_email_check_never_raises_anything_but_value_error(text: str) -> None:
    """Any text is either a normalized address or a ValueError."""
    try:
        result = normalize_email(text)
    except ValueError:
        return
    assert result == result.strip().lower()
    assert "@" in result
    assert len(result) <= 254


# --------------------------------------------------------------------------- password


def test_password_keeps_spaces_and_is_never_trimmed() -> None:
    """Leading/trailing spaces are part of the password."""
    assert validate(Account, {"password": "  pass word  "}).password == "  pass word  "


@pytest.mark.parametrize(
    ("bad", "valid_twin", "message"),
    [
        ("1234567", "12345678", "Password must be at least 8 bytes long"),
        ("x" * 73, "x" * 72, "Password must be at most 72 bytes long"),
        ("\u20ac" * 25, "\u20ac" * 24, "Password must be at most 72 bytes long"),  # 3 bytes each
        ("\U0001f600" * 19, "\U0001f600" * 18, "Password must be at most 72 bytes long"),
        (
            "\u00e9\u00e9\u00e9",
            "\u00e9\u00e9\u00e9\u00e9",
            "Password must be at least 8 bytes long",
        ),
        ("       ", "        ", "Password must be at least 8 bytes long"),
    ],
)
def test_password_length_is_counted_in_utf8_bytes(bad: str, valid_twin: str, message: str) -> None:
    """8..72 bytes of UTF-8, not characters: 25 euro signs are 75 bytes."""
    assert _detail({"password": bad}) == ErrorDetail("password", message)
    assert validate(Account, {"password": valid_twin}).password == valid_twin


def test_password_is_nfkc_normalized_before_counting() -> None:
    """The ligature "\ufb01" becomes "fi": 4 ligatures are 8 bytes after NFKC (12 before)."""
    assert validate(Account, {"password": "\ufb01" * 4}).password == "fi" * 4
    assert _detail({"password": "\ufb01" * 37}).message == "Password must be at most 72 bytes long"
    decomposed = "e\u0301" * 4  # e + combining acute: NFKC composes to 4 x 2 bytes
    assert validate(Account, {"password": decomposed}).password == "\u00e9" * 4


def test_password_with_lone_surrogate_is_refused() -> None:
    """A str that cannot be UTF-8 (not from parse_json, but from elsewhere) is refused."""
    assert _detail({"password": "abcdefg\ud800"}) == ErrorDetail(
        "password", "Password must be valid Unicode text"
    )


def test_password_is_hidden_from_repr_and_write_only_in_schema() -> None:
    """repr() of a model or its dump never shows the password; str/JSON/== see the text."""
    account = validate(Account, {"password": "s3cret-value"})
    assert "s3cret-value" not in repr(account)
    assert "s3cret-value" not in repr(account.model_dump())
    assert repr(account.password) == "'**********'"
    assert account.password == "s3cret-value"
    assert str(account.password) == "s3cret-value"
    assert account.password is not None
    assert account.password.encode() == b"s3cret-value"
    assert '"password":"s3cret-value"' in account.model_dump_json()
    schema = Account.model_json_schema()["properties"]["password"]["anyOf"][0]
    assert schema == {"type": "string", "format": "password", "writeOnly": True}


def test_password_errors_never_contain_the_value() -> None:
    """Too short / too long messages carry only the bound."""
    for value in ("sh0rt!", "L0ng-" * 20):
        detail = _detail({"password": value})
        assert value not in detail.message
        assert value[:5] not in detail.message


def test_password_field_factory_changes_the_bounds() -> None:
    """password_field(min_bytes=12, max_bytes=128) builds a hidden password type."""
    long_password = password_field(min_bytes=12, max_bytes=128)

    class Strict(ApiModel):
        password: long_password

    with pytest.raises(ValidationFailed) as caught:
        validate(Strict, {"password": "a" * 11})
    assert caught.value.details == (
        ErrorDetail("password", "Password must be at least 12 bytes long"),
    )
    assert validate(Strict, {"password": "a" * 100}).password == "a" * 100
    assert "aaaa" not in repr(Strict(password="a" * 12))


def test_password_policy_in_annotated_and_without_normalization() -> None:
    """The typed form ``Annotated[str, PasswordPolicy(...)]``; normalization=None keeps text."""

    class Raw(ApiModel):
        password: Annotated[str, PasswordPolicy(normalization=None)]

    assert validate(Raw, {"password": "\ufb01" * 4}).password == "\ufb01" * 4


@pytest.mark.parametrize(("low", "high"), [(0, 72), (9, 8), (-1, 5)])
def test_password_policy_refuses_impossible_bounds(low: int, high: int) -> None:
    """min_bytes must be at least 1 and not above max_bytes."""
    with pytest.raises(ValueError, match="min_bytes"):
        PasswordPolicy(min_bytes=low, max_bytes=high)
    assert PasswordPolicy(min_bytes=1, max_bytes=1).max_bytes == 1


@given(st.text(max_size=100))
def test_password_validation_raises_only_validation_failed(text: str) -> None:
    """Any text: accepted as its NFKC form, or refused with a message without the value."""
    try:
        result = validate(Account, {"password": text}).password
    except ValidationFailed as exc:
        messages = [d.message for d in exc.details]
        if len(text) >= 4:
            assert all(text not in message for message in messages)
    else:
        assert result is not None
        assert 8 <= len(result.encode()) <= 72


# --------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("raw", "expected"), [(1, 1), ("42", 42), (2**63 - 1, 2**63 - 1), (7.0, 7), (" 5 ", 5)]
)
def test_positive_id_accepts_integers_and_numeric_strings(raw: Any, expected: int) -> None:
    """Lax coercion: path and query ids arrive as strings."""
    assert validate(Account, {"id": raw}).id == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (0, "Input should be greater than or equal to 1"),
        (-5, "Input should be greater than or equal to 1"),
        (2**63, "Input should be less than or equal to 9223372036854775807"),
        (True, "Input should be a valid integer"),
        (False, "Input should be a valid integer"),
        ("1.5", "Input should be a valid integer, unable to parse string as an integer"),
        ("abc", "Input should be a valid integer, unable to parse string as an integer"),
        (1.5, "Input should be a valid integer, got a number with a fractional part"),
    ],
)
def test_positive_id_refuses_out_of_range_bools_and_fractions(bad: Any, message: str) -> None:
    """Ids are 1..2**63-1; true/false are not ids."""
    assert _detail({"id": bad}) == ErrorDetail("id", message)
    assert validate(Account, {"id": 1}).id == 1


def test_positive_id_schema_has_bounds() -> None:
    """OpenAPI shows minimum 1 and the BIGINT maximum."""
    schema = Account.model_json_schema()["properties"]["id"]["anyOf"][0]
    assert schema == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


@pytest.mark.parametrize(
    "raw",
    [
        "0F8FAD5B-D9CB-469F-A165-70867728950E",
        "0f8fad5bd9cb469fa16570867728950e",
        "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e"),
    ],
)
def test_uuid_str_is_canonical(raw: Any) -> None:
    """Every accepted spelling becomes the lower-case hyphenated form."""
    assert validate(Account, {"ref": raw}).ref == "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    "bad", ["not-a-uuid", "0f8fad5b-d9cb-469f-a165-70867728950", 12, "x" * 1000, b"0" * 16]
)
def test_uuid_str_refuses_other_values_without_echo(bad: Any) -> None:
    """Invalid UUIDs give one generic message; the valid twin passes."""
    assert _detail({"ref": bad}) == ErrorDetail("ref", "Input should be a valid UUID")
    assert validate(Account, {"ref": str(uuid.uuid4())}).ref is not None
    assert Account.model_json_schema()["properties"]["ref"]["anyOf"][0] == {
        "type": "string",
        "format": "uuid",
    }
