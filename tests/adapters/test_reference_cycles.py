"""A served request leaves nothing for the garbage collector that the bare framework does not.

Reference counting frees a request's objects the moment it ends, unless they form a cycle;
then they wait for the collector, whose passes grow with everything the process holds (a
full pass over a FastAPI app's objects takes milliseconds). The FastAPI adapter once left
the server's scope in a cycle through the send it stored there (about 20 objects per
request, and a collector pass every 30 requests when served by uvicorn); the Flask adapter
left the environ, the request and the cycle. Each case serves the same requests through
the bare app and ours with the collector off, then counts what a collection finds.

A test client would hide this: the cycle needs a server whose ``send`` holds the scope, as
uvicorn's does, so the ASGI app is called here the way a server calls it.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask, stream_with_context
from tests.adapters._apps import make_kit
from werkzeug.test import EnvironBuilder

from backendkit.adapters.fastapi import install
from backendkit.adapters.flask import BackendKit
from backendkit.errors import NotFound
from backendkit.responses import success

# (method, path, body): success, an AppError, a body over the cap, a route that does not
# exist. Not an unexpected error: its 500 logs the traceback, and rendering a traceback is
# the logger's garbage, which the bare app (whose server logs it) does not make here.
REQUESTS = [
    ("GET", "/ok", b""),
    ("GET", "/missing-thing", b""),
    ("POST", "/ok", b"x" * 5000),
    ("GET", "/no/such/route", b""),
]


def _unreachable_after(serve: Callable[[], None], rounds: int = 5) -> int:
    """Objects a collection finds after ``rounds`` calls of ``serve`` with the collector off."""
    serve()  # first-call caches (routing, compiled models) are not per-request garbage
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            serve()
        return gc.collect()
    finally:
        gc.enable()


# --------------------------------------------------------------------------- FastAPI


class _ServerCycle:
    """What an ASGI server keeps per request: the scope, and a ``send`` bound to itself."""

    def __init__(self, scope: dict[str, Any], body: bytes) -> None:
        self.scope = scope
        self.messages: list[dict[str, Any]] = []
        self._body = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive(self) -> dict[str, Any]:
        return self._body.pop() if self._body else {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)


def _fastapi_app(kit: bool) -> FastAPI:
    app = FastAPI()
    if kit:
        install(app, make_kit())

    @app.get("/ok")
    @app.post("/ok")
    async def ok() -> dict[str, Any]:
        return success({"id": 1})

    @app.get("/missing-thing")
    async def missing() -> None:
        raise NotFound("no such thing")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


def _asgi_call(app: Any, method: str, path: str, body: bytes) -> int:
    headers = [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    server = _ServerCycle(scope, body)

    async def run() -> None:
        # The bare app lets a route's error reach the server, as uvicorn sees it.
        with contextlib.suppress(Exception):
            await app(scope, server.receive, server.send)

    asyncio.run(run())
    starts = [m for m in server.messages if m["type"] == "http.response.start"]
    return int(starts[0]["status"]) if starts else 500


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_fastapi_request_leaves_no_more_garbage_than_bare(
    method: str, path: str, body: bytes
) -> None:
    bare, ours = _fastapi_app(kit=False), _fastapi_app(kit=True)
    # asyncio.run's own loop leaves the same objects for both: the bare app is the baseline.
    baseline = _unreachable_after(lambda: _asgi_call(bare, method, path, body))
    found = _unreachable_after(lambda: _asgi_call(ours, method, path, body))
    assert found <= baseline, (found, baseline)


def test_fastapi_serves_the_requests_it_counts() -> None:
    # The twin: the calls above really reach the routes (and the kit's error handling).
    ours = _fastapi_app(kit=True)
    statuses = [_asgi_call(ours, method, path, body) for method, path, body in REQUESTS]
    assert statuses == [200, 404, 413, 404]
    assert _asgi_call(ours, "GET", "/boom", b"") == 500


def test_a_scope_that_keeps_its_send_is_found_by_the_count() -> None:
    # The twin of the counting itself: a cycle through the scope, as the adapter once made,
    # is what it finds.
    bare = _fastapi_app(kit=False)

    async def keeping(scope: Any, receive: Any, send: Any) -> None:
        scope["kept.send"] = send
        await bare(scope, receive, send)

    baseline = _unreachable_after(lambda: _asgi_call(bare, "GET", "/ok", b""))
    assert _unreachable_after(lambda: _asgi_call(keeping, "GET", "/ok", b"")) > baseline


# --------------------------------------------------------------------------- Flask


def _flask_app(kit: bool) -> Flask:
    app = Flask("cycles")
    if kit:
        BackendKit(app, kit=make_kit())

    @app.route("/ok", methods=["GET", "POST"])
    def ok() -> Any:
        return success({"id": 1})

    @app.get("/missing-thing")
    def missing() -> Any:
        raise NotFound("no such thing")

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.get("/stream")
    def stream() -> Any:
        def chunks() -> Iterator[str]:
            yield "a"
            yield "b"

        return app.response_class(stream_with_context(chunks()), mimetype="text/plain")

    return app


def _wsgi_call(app: Flask, method: str, path: str, body: bytes) -> int:
    environ = EnvironBuilder(path=path, method=method, data=body or None).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    result = app(environ, start_response)
    try:
        b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(statuses[0][:3])


FLASK_REQUESTS = [*REQUESTS, ("GET", "/stream", b"")]


@pytest.mark.parametrize(("method", "path", "body"), FLASK_REQUESTS)
def test_flask_request_leaves_no_more_garbage_than_bare(
    method: str, path: str, body: bytes
) -> None:
    bare, ours = _flask_app(kit=False), _flask_app(kit=True)
    bare.config["PROPAGATE_EXCEPTIONS"] = False  # the bare app's 500 is rendered, not raised
    baseline = _unreachable_after(lambda: _wsgi_call(bare, method, path, body))
    found = _unreachable_after(lambda: _wsgi_call(ours, method, path, body))
    assert found <= baseline, (found, baseline)


def test_flask_serves_the_requests_it_counts() -> None:
    ours = _flask_app(kit=True)
    statuses = [_wsgi_call(ours, method, path, body) for method, path, body in FLASK_REQUESTS]
    assert statuses == [200, 404, 413, 404, 200]
