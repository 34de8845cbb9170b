"""Body reading and parsing: the cap while reading, content types, safe JSON."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backendkit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from backendkit.validation import ApiModel
from backendkit.web import (
    BodyBudget,
    aread_body,
    check_content_length,
    is_json_media_type,
    parse_body,
    read_body,
    require_json,
)


class Login(ApiModel):
    email: str


def test_budget_refuses_the_first_byte_past_the_limit() -> None:
    """Exactly the limit passes; one more byte is PayloadTooLarge."""
    budget = BodyBudget(10)
    budget.add(10)
    with pytest.raises(PayloadTooLarge, match="larger than 10 bytes"):
        budget.add(1)


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("0", 0), (" 12 ", 12)])
def test_content_length_parsed(value: str | None, expected: int | None) -> None:
    """Absent, empty and numeric Content-Length values are read."""
    assert check_content_length(value, 100) == expected


@pytest.mark.parametrize("value", ["-1", "1e3", "abc", "+5", "١٢"])
def test_content_length_malformed_is_400(value: str) -> None:
    """Signs, exponents, letters and non-ASCII digits are a BadRequest."""
    with pytest.raises(BadRequest):
        check_content_length(value, 100)


def test_content_length_over_limit_is_413() -> None:
    """A declared length over the cap is refused before reading."""
    with pytest.raises(PayloadTooLarge):
        check_content_length("101", 100)


def test_read_body_with_declared_length_reads_only_that() -> None:
    """With Content-Length, only that many bytes are read (a WSGI stream may not end)."""
    stream = io.BytesIO(b"hello world")
    assert read_body(stream.read, limit=100, content_length=5) == b"hello"


def test_read_body_declared_over_limit() -> None:
    """A declared length over the cap fails before reading anything."""
    stream = io.BytesIO(b"x" * 10)
    with pytest.raises(PayloadTooLarge):
        read_body(stream.read, limit=5, content_length=10)
    assert stream.tell() == 0


def test_read_body_unbounded_stream_is_cut_off() -> None:
    """Without Content-Length the stream is read until the cap, then refused."""

    class Endless:
        reads = 0

        def read(self, size: int) -> bytes:
            self.reads += 1
            return b"x" * size

    endless = Endless()
    with pytest.raises(PayloadTooLarge):
        read_body(endless.read, limit=200_000)
    assert endless.reads <= 4  # stopped right after the cap, never read to the end


def test_read_body_short_stream() -> None:
    """A stream shorter than its declared length returns what arrived."""
    assert read_body(io.BytesIO(b"abc").read, limit=100, content_length=10) == b"abc"


@given(
    data=st.binary(max_size=300),
    limit=st.integers(min_value=1, max_value=300),
)
@hsettings(max_examples=200)
def test_read_body_returns_the_body_or_refuses_it(data: bytes, limit: int) -> None:
    """For any body and cap: the exact bytes when they fit, PayloadTooLarge otherwise."""
    stream = io.BytesIO(data)
    if len(data) <= limit:
        assert read_body(stream.read, limit=limit) == data
    else:
        with pytest.raises(PayloadTooLarge):
            read_body(stream.read, limit=limit)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_aread_body_joins_chunks() -> None:
    """The async reader joins chunks under the cap."""
    assert await aread_body(chunks(b"ab", b"", b"cd"), limit=4) == b"abcd"


async def test_aread_body_refuses_over_the_cap() -> None:
    """The async reader fails at the chunk that crosses the cap."""
    with pytest.raises(PayloadTooLarge):
        await aread_body(chunks(b"ab", b"cde"), limit=4)


@pytest.mark.parametrize(
    "value",
    ["application/json", "Application/JSON; charset=utf-8", "application/problem+json"],
)
def test_json_media_types(value: str) -> None:
    """JSON and +json types are JSON, case and parameters ignored."""
    assert is_json_media_type(value)
    require_json(value)


@pytest.mark.parametrize("value", [None, "", "text/plain", "application/jsonx", "text/json"])
def test_non_json_media_types_are_415(value: str | None) -> None:
    """Anything else is UnsupportedMediaType."""
    assert not is_json_media_type(value)
    with pytest.raises(UnsupportedMediaType):
        require_json(value)


def test_parse_body_validates_into_a_model() -> None:
    """parse_body returns the model for a good body."""
    assert parse_body(b'{"email": "a@b.c"}', "application/json", max_bytes=100, model=Login) == (
        Login(email="a@b.c")
    )
    assert parse_body(b"[1]", "application/json", max_bytes=100) == [1]


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b'{"email": "a"}', "text/plain", UnsupportedMediaType),
        (b"", "application/json", BadRequest),
        (b"{", "application/json", BadRequest),
        (b"[" * 90, "application/json", BadRequest),
        (b'{"email": "' + b"x" * 100 + b'"}', "application/json", PayloadTooLarge),
        (b"{}", "application/json", ValidationFailed),
    ],
)
def test_parse_body_errors(body: bytes, content_type: str, error: type[Exception]) -> None:
    """Each kind of bad body maps to its error."""
    with pytest.raises(error):
        parse_body(body, content_type, max_bytes=100, model=Login)
