"""Bodies in pieces: a chunked WSGI request body read whole, a streamed response in its request."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from backendkit.errors import AppError, PayloadTooLarge
from backendkit.logging import get_request_context
from backendkit.testing import capture_logs
from backendkit.web import RequestCycle
from backendkit.web._streams import astream_in_request, chunked_body, stream_in_request


def _chunked(body: bytes, **extra: Any) -> dict[str, Any]:
    return {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body), **extra}


def _unread(_: int) -> bytes:
    raise AssertionError("the request's own stream must not be read")


def test_a_terminated_wsgi_input_is_read_whole_and_its_length_stated() -> None:
    """A de-chunked ``wsgi.input`` is the body: read under the cap, its length recorded."""
    environ = _chunked(b'{"a": 1}', **{"wsgi.input_terminated": True})
    assert chunked_body(environ, _unread, limit=8) == b'{"a": 1}'
    assert environ["CONTENT_LENGTH"] == "8"


def test_a_chunked_body_over_the_cap_is_refused() -> None:
    """One byte over the cap is a 413 (the twin above reads exactly the cap)."""
    environ = _chunked(b"x" * 9, **{"wsgi.input_terminated": True})
    with pytest.raises(PayloadTooLarge):
        chunked_body(environ, _unread, limit=8)


def test_a_wsgi_input_the_server_did_not_terminate_is_a_411() -> None:
    """A server that cannot hand the body over: Length Required, nothing read."""
    environ = _chunked(b"body")
    with pytest.raises(AppError) as caught:
        chunked_body(environ, _unread, limit=100)
    assert caught.value.status == 411
    assert "Content-Length" in caught.value.message
    assert environ["wsgi.input"].tell() == 0


def test_without_wsgi_input_the_request_reads_the_body() -> None:
    """Under ASGI (no ``wsgi.input``) the given reader is used."""
    environ = {"HTTP_TRANSFER_ENCODING": "gzip, Chunked"}
    assert chunked_body(environ, io.BytesIO(b"abc").read, limit=10) == b"abc"
    assert environ["CONTENT_LENGTH"] == "3"


@pytest.mark.parametrize(
    "environ",
    [
        {"CONTENT_LENGTH": "3", "HTTP_TRANSFER_ENCODING": "chunked"},
        {"HTTP_TRANSFER_ENCODING": "gzip"},
        {},
    ],
)
def test_other_requests_are_left_alone(environ: dict[str, Any]) -> None:
    """A declared length, or no chunked coding: ``None``, the environ unchanged."""
    before = dict(environ)
    assert chunked_body(environ, _unread, limit=10) is None
    assert environ == before


def _started() -> RequestCycle:
    cycle = RequestCycle.start(method="GET", path="/s", request_id_header="r-1")
    cycle.status = 200
    return cycle


def _chunks(seen: list[Any]) -> Iterator[bytes]:
    for chunk in (b"a", b"b"):
        seen.append(get_request_context().get("request_id"))
        yield chunk


def test_a_stream_runs_in_its_request_context_and_finishes_the_cycle() -> None:
    """Chunks see the request's log context after it was cleared; one access log at the end."""
    seen: list[Any] = []
    stream = stream_in_request(_chunks(seen), _started())
    assert get_request_context() == {}  # the thread is free for the next request
    with capture_logs() as logs:
        assert list(stream) == [b"a", b"b"]
    assert seen == ["r-1", "r-1"]
    assert [log["event"] for log in logs] == ["request_completed"]
    assert get_request_context() == {}


def test_a_stream_closed_early_still_finishes_the_cycle() -> None:
    """A client gone mid-body: closing the stream logs the request once."""
    stream = stream_in_request(_chunks([]), _started())
    assert next(stream) == b"a"
    with capture_logs() as logs:
        stream.close()  # type: ignore[attr-defined]
    assert [log["status"] for log in logs] == [200]


def test_an_async_stream_binds_the_request_again_and_finishes_the_cycle() -> None:
    """The async twin: the request's values (its user too) around each chunk, one log."""
    seen: list[Any] = []

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b"a", b"b"):
            context = get_request_context()
            seen.append((context.get("request_id"), context.get("user_id")))
            yield chunk

    async def consume() -> list[bytes]:
        cycle = _started()  # in the task's context, as a request's is
        cycle.set_user("u-1")
        stream = astream_in_request(chunks(), cycle)
        assert get_request_context() == {}
        return [chunk async for chunk in stream]

    with capture_logs() as logs:
        assert asyncio.run(consume()) == [b"a", b"b"]
    assert seen == [("r-1", "u-1"), ("r-1", "u-1")]
    assert [log["event"] for log in logs] == ["request_completed"]
    assert get_request_context() == {}
