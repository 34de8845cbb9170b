"""Reading and parsing request bodies: size cap while reading, content type, JSON parse.

The cap is enforced while the bytes arrive (a declared ``Content-Length`` over the cap is
refused before anything is read; a chunked or lying body is cut off at the first byte
past the cap), so an oversized body never sits in memory. Parsing goes through
[`parse_json`][backendkit.validation.parse_json], which turns malformed or too-deep input
into ``BAD_REQUEST`` instead of the ``RecursionError`` framework parsers let through.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from backendkit.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from backendkit.validation import parse_json, validate

__all__ = [
    "BodyBudget",
    "aread_body",
    "check_content_length",
    "is_json_media_type",
    "parse_body",
    "read_body",
    "require_json",
]

M = TypeVar("M", bound=BaseModel)

# Size of one read from a WSGI input stream.
_CHUNK = 64 * 1024


class BodyBudget:
    """Counts body bytes as they arrive and refuses the first byte past ``limit``.

    The same counter serves a WSGI stream reader and an ASGI ``receive`` wrapper.

    Example:
        >>> budget = BodyBudget(4)
        >>> budget.add(3)
        >>> budget.add(2)
        Traceback (most recent call last):
        ...
        backendkit.errors.PayloadTooLarge: The request body is larger than 4 bytes
    """

    __slots__ = ("limit", "total")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0

    def add(self, size: int) -> None:
        """Count ``size`` more bytes.

        Raises:
            PayloadTooLarge: the running total is over the limit.
        """
        self.total += size
        if self.total > self.limit:
            # The same wording as parse_json's own cap, so both paths read alike.
            raise PayloadTooLarge(f"The request body is larger than {self.limit} bytes")


def check_content_length(header_value: str | None, limit: int) -> int | None:
    """Parse a ``Content-Length`` header and refuse a declared size over ``limit``.

    Returns:
        The declared length, or ``None`` when the header is absent.

    Raises:
        BadRequest: the header is not a non-negative integer.
        PayloadTooLarge: the declared length is over ``limit``.
    """
    if header_value is None or header_value == "":
        return None
    text = header_value.strip()
    if not (text.isascii() and text.isdigit()):  # no signs, spaces or non-ASCII digits
        raise BadRequest("Invalid Content-Length header")
    length = int(text)
    if length > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    return length


def read_body(
    read: Callable[[int], bytes], *, limit: int, content_length: int | None = None
) -> bytes:
    """Read a whole body from a blocking stream (a WSGI ``wsgi.input``), capped at ``limit``.

    When ``content_length`` is known only that many bytes are read (WSGI servers may block
    reading past it); otherwise the stream is read to its end.

    Raises:
        PayloadTooLarge: more than ``limit`` bytes arrived (or were declared).
    """
    budget = BodyBudget(limit)
    if content_length is not None:
        budget.add(content_length)
    remaining = content_length
    parts: list[bytes] = []
    while remaining is None or remaining > 0:
        # Read at most one byte past the cap so an unbounded stream is cut off early.
        want = _CHUNK if remaining is None else min(_CHUNK, remaining)
        chunk = read(want)
        if not chunk:
            break
        if remaining is None:
            budget.add(len(chunk))
        else:
            remaining -= len(chunk)
        parts.append(chunk)
    return b"".join(parts)


async def aread_body(chunks: AsyncIterable[bytes], *, limit: int) -> bytes:
    """Read a whole body from an async chunk stream (an ASGI body), capped at ``limit``.

    Raises:
        PayloadTooLarge: more than ``limit`` bytes arrived.
    """
    budget = BodyBudget(limit)
    parts: list[bytes] = []
    async for chunk in chunks:
        budget.add(len(chunk))
        parts.append(chunk)
    return b"".join(parts)


def is_json_media_type(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (parameters ignored).

    Example:
        >>> is_json_media_type("application/merge-patch+json; charset=utf-8")
        True
        >>> is_json_media_type("text/plain")
        False
    """
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def require_json(content_type: str | None) -> None:
    """Refuse a body that is not JSON.

    Raises:
        UnsupportedMediaType: the ``Content-Type`` is missing or not a JSON type.
    """
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType()


@overload
def parse_body(body: bytes, content_type: str | None, *, max_bytes: int) -> Any: ...


@overload
def parse_body(body: bytes, content_type: str | None, *, max_bytes: int, model: type[M]) -> M: ...


def parse_body(
    body: bytes,
    content_type: str | None,
    *,
    max_bytes: int,
    model: type[M] | None = None,
) -> Any:
    """Check the content type, parse JSON with the size cap and optionally validate.

    Args:
        body: the raw body bytes (already read under the cap).
        content_type: the request's ``Content-Type`` header.
        max_bytes: the body cap (``WebKit.max_body_bytes``).
        model: a pydantic model to validate the parsed data into.

    Raises:
        UnsupportedMediaType: not a JSON content type.
        BadRequest: empty, malformed, not UTF-8 or too deeply nested JSON.
        PayloadTooLarge: over ``max_bytes``.
        ValidationFailed: ``model`` rejects the data (field-level details).
    """
    require_json(content_type)
    data = parse_json(body, max_bytes=max_bytes)
    if model is None:
        return data
    return validate(model, data)
