"""One ASGI request through the pipeline: its cycle, the counted body, the decorated start."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest

from backendkit.errors import PayloadTooLarge
from backendkit.settings import Settings
from backendkit.testing import capture_logs
from backendkit.web import AsgiCycle, Pipeline, WebKit

Message = dict[str, Any]


def make_pipeline(max_body_bytes: int = 8) -> Pipeline:
    settings = Settings(env="test", max_body_bytes=max_body_bytes)
    return Pipeline(WebKit.from_settings(settings))


def scope(*headers: tuple[bytes, bytes]) -> Message:
    return {"type": "http", "method": "POST", "path": "/api/notes", "headers": list(headers)}


def test_the_cycle_takes_the_request_id_and_the_declared_length() -> None:
    """A safe X-Request-ID is the cycle's id; Content-Length is kept for admit."""
    asgi = AsgiCycle(
        make_pipeline(), scope((b"content-length", b"5"), (b"x-request-id", b"req-42"))
    )
    assert (asgi.cycle.request_id, asgi.content_length) == ("req-42", "5")
    assert (asgi.cycle.method, asgi.cycle.path) == ("POST", "/api/notes")
    asgi.cycle.finish(200)


def test_without_those_headers_an_id_is_made_and_no_length_declared() -> None:
    """No X-Request-ID: a fresh id; no Content-Length: None (chunked)."""
    asgi = AsgiCycle(make_pipeline(), scope((b"accept", b"*/*")))
    assert asgi.cycle.request_id
    assert asgi.content_length is None
    asgi.cycle.finish(200)


def body_messages(*chunks: bytes) -> Any:
    queue = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]

    async def receive() -> Message:
        return queue.pop(0)

    return receive


def test_receive_counts_the_body_up_to_the_cap() -> None:
    """Exactly the cap arrives; one byte past it is PayloadTooLarge."""
    asgi = AsgiCycle(make_pipeline(max_body_bytes=8), scope())
    receive = asgi.receive(body_messages(b"1234", b"5678", b"9"))

    async def read() -> list[bytes]:
        return [(await receive())["body"], (await receive())["body"]]

    async def read_past_the_cap() -> None:
        await receive()

    assert asyncio.run(read()) == [b"1234", b"5678"]
    with pytest.raises(PayloadTooLarge):
        asyncio.run(read_past_the_cap())
    asgi.cycle.finish(413)


def test_send_records_the_status_and_adds_the_cycle_headers() -> None:
    """The start message gets the request id and security headers; the body passes as is."""
    asgi = AsgiCycle(make_pipeline(), scope((b"x-request-id", b"req-7")))
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def respond() -> None:
        decorated = asgi.send(send)
        await decorated({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"b")]})
        await decorated({"type": "http.response.body", "body": b"{}"})

    assert not asgi.started
    asyncio.run(respond())
    assert asgi.started
    assert asgi.cycle.status == 201
    headers = dict(sent[0]["headers"])
    assert (headers[b"x-a"], headers[b"x-request-id"]) == (b"b", b"req-7")
    assert b"x-content-type-options" in headers
    assert sent[1] == {"type": "http.response.body", "body": b"{}"}
    asgi.cycle.finish()


def test_late_error_is_logged_with_the_request_id() -> None:
    """An error after the response started is only logged, with the request and its id."""
    asgi = AsgiCycle(make_pipeline(), scope((b"x-request-id", b"req-9")))
    with capture_logs() as logs:
        asgi.late_error(RuntimeError("stream broke"))
    (entry,) = [log for log in logs if log["event"].startswith("unhandled_exception")]
    assert entry["event"] == "unhandled_exception_after_response_started"
    assert (entry["request_id"], entry["log_level"]) == ("req-9", "error")
    asgi.cycle.finish(200)
