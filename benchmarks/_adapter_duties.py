"""What each duty of backendkit's adapter costs per request, in microseconds of CPU.

Measured in one process (bench_adapters.py runs it pinned to the server's core), on the
pure ASGI path the FastAPI adapter takes: ``BackendKitMiddleware`` around
``ErrorCatcher`` around a minimal ASGI app that sends a 68-byte JSON response. The
coroutines are driven by hand (``send(None)`` until ``StopIteration``: nothing in this
path awaits real I/O), so no event loop is timed. Each figure is the median, over
repeats, of a loop's CPU time (``time.process_time``) per call:

- ``total``: the middleware stack per request, minus the bare app's own cost, with the
  access-log line on and with it filtered out (log level WARNING);
- the duties: the request id (generated), the log context (bound and cleared), the
  response headers (``X-Request-ID``, ``nosniff``, the charset), the envelope (the error
  catcher layer around the route and ``success()``), the body cap (its counter and
  ``receive`` wrapper, and the admission check), the access line (one JSON line formatted
  and written, against the same call filtered out);
- ``rest``: the total with the log off minus the duties other than the access line: the
  cycle object, the middleware's calls and the ``send`` wrapper.

The Flask and Django adapters share every duty but the headers (a ``dict`` there) and
the envelope (the framework's error hooks), through the same ``Pipeline``.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Coroutine
from typing import Any

BODY = b'{"success":true,"data":{"id":42,"name":"Widget"},"message":null}'.ljust(68)
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"68")]


def _drive(coroutine: Coroutine[Any, Any, Any]) -> None:
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("the timed path awaited real I/O")


async def _app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": list(HEADERS)})
    await send({"type": "http.response.body", "body": BODY})


async def _send(message: Any) -> None:
    return None


async def _receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope() -> dict[str, Any]:
    return {
        "type": "http", "method": "GET", "path": "/json", "raw_path": b"/json",
        "query_string": b"", "headers": [(b"host", b"127.0.0.1"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip


def per_call_us(call: Callable[[], Any], *, loops: int, repeats: int) -> float:
    """Median over ``repeats`` of the CPU microseconds per call of ``loops`` calls."""
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(loops):
            call()
        samples.append((time.process_time() - started) / loops * 1e6)
    return statistics.median(samples)


def measure(*, quick: bool) -> dict[str, Any]:
    """Each duty's microseconds per request (see the module docstring)."""
    from backendkit.adapters._fastapi_asgi import BackendKitMiddleware, ErrorCatcher
    from backendkit.logging import configure_logging, new_request_id
    from backendkit.logging._context import clear_request_context, start_request_context
    from backendkit.responses import success
    from backendkit.settings import Settings
    from backendkit.web import Pipeline, WebKit
    from backendkit.web._body import BodyBudget
    from backendkit.web._cycle import _access_log

    loops, repeats = (5_000, 5) if quick else (20_000, 9)

    def timed(call: Callable[[], Any]) -> float:
        return per_call_us(call, loops=loops, repeats=repeats)

    log = open(os.devnull, "a", buffering=1 << 16)  # noqa: SIM115
    configure_logging(fmt="json", level="INFO", stream=log)
    kit = WebKit.from_settings(Settings(env="test"))
    pipeline = Pipeline(kit)
    stack = BackendKitMiddleware(ErrorCatcher(_app, pipeline), pipeline)
    item = {"id": 42, "name": "Widget", "tags": ["a", "b", "c"], "price": "9.99", "active": True}

    def bare() -> None:
        _drive(_app(_scope(), _receive, _send))

    def full() -> None:
        _drive(stack(_scope(), _receive, _send))

    def catcher() -> None:
        _drive(ErrorCatcher(_app, pipeline)(_scope(), _receive, _send))

    def context() -> None:
        start_request_context(request_id="0" * 32, method="GET", path="/json")
        clear_request_context()

    cycle = pipeline.start(method="GET", path="/json", request_id=None)

    def cap() -> Any:
        # What the middleware does for the cap on a request without a body: the admission
        # check, the counter and the counting ``receive`` (never called by a GET route).
        pipeline.admits_without_checks("/json", None)
        budget = BodyBudget(pipeline.max_body_bytes)

        async def counted() -> Any:
            message = await _receive()
            budget.add(len(message.get("body", b"")))
            return message

        return counted

    def access_line() -> None:
        _access_log.info(
            "request_completed", method="GET", path="/json", status=200,
            duration_ms=0.123, user_id=None, request_id="0" * 32,
        )  # fmt: skip

    base = timed(bare)
    results: dict[str, float] = {}
    results["total"] = timed(full) - base
    results["request id"] = timed(new_request_id)
    results["log context"] = timed(context)
    results["headers"] = timed(lambda: cycle.asgi_headers(HEADERS))
    results["envelope"] = timed(catcher) - base + timed(lambda: success(item))
    results["body cap"] = timed(cap)
    line_on = timed(access_line)
    configure_logging(fmt="json", level="WARNING", stream=log)
    results["total, access line off"] = timed(full) - base
    results["access line"] = line_on - timed(access_line)
    clear_request_context()
    shared = ("request id", "log context", "headers", "envelope", "body cap")
    results["rest"] = results["total, access line off"] - sum(results[d] for d in shared)
    return {name: round(value, 2) for name, value in results.items()} | {"bare app": round(base, 2)}
