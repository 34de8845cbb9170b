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

The Flask and Django adapters share every duty but the headers (text pairs as Flask's
WSGI response starts, Django's response object) and the envelope (the framework's error
hooks), through the same ``Pipeline``.

``frameworks`` measures whole apps the same way, without a server or a network: a FastAPI
app's ASGI call driven by hand, a Flask app's WSGI call, for the bare app, backendkit's
(access line on, then filtered out) and the recipe, each in its own interpreter (each
configures logging for its process) alternating with the bare app. Server and
network cost nothing here, so these ratios are the adapters' own, not diluted by them.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Coroutine
from pathlib import Path
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

    # The access line goes to a file, as in the servers (BENCH_LOG_FILE, set by the caller).
    log = open(os.environ.get("BENCH_LOG_FILE") or os.devnull, "a", buffering=1 << 16)  # noqa: SIM115
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


def _asgi_request(app: Any) -> Callable[[], None]:
    scope = _scope() | {"asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http"}

    def call() -> None:
        _drive(app(dict(scope, root_path="", state={}), _receive, _send))

    return call


def _wsgi_request(app: Any) -> Callable[[], None]:
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/json", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": False, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_ACCEPT": "*/*",
    }  # fmt: skip

    def start_response(*_: Any) -> None:
        return None

    def call() -> None:
        body = app(dict(environ, **{"wsgi.input": io.BytesIO()}), start_response)
        for _ in body:
            pass
        body.close()

    return call


def _alternating(
    calls: dict[str, Callable[[], None]], loops: int, repeats: int
) -> dict[str, float]:
    """Median CPU µs per call of each of ``calls``, their repeats alternating."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # first calls build caches
    for _ in range(repeats):
        for name, call in calls.items():
            samples[name].append(per_call_us(call, loops=loops, repeats=1))
    return {name: round(statistics.median(values), 2) for name, values in samples.items()}


def _whole_apps(framework: str, side: str, quick: bool) -> dict[str, float]:
    """One side's figures, in this (fresh) process: backendkit's app with the access line on,
    then filtered out, or the recipe; each alternating with the bare app. A side that is
    to write its log line and wrote none is an error, not a fast figure."""
    import _adapter_apps

    from backendkit.logging import configure_logging

    loops, repeats = (1_000, 5) if quick else (3_000, 9)
    request = _asgi_request if framework == "fastapi" else _wsgi_request
    bare = request(_adapter_apps.BUILDERS[f"{framework}-bare"]())
    other = request(_adapter_apps.BUILDERS[f"{framework}-{side}"]())
    log = Path(os.environ["BENCH_LOG_FILE"])
    before = log.stat().st_size if log.exists() else 0
    out = _alternating({"bare": bare, side: other}, loops, repeats)
    if not log.exists() or log.stat().st_size == before:
        raise RuntimeError(f"{framework}-{side} wrote no access-log line")
    if side == "backendkit":
        configure_logging(fmt="json", level="WARNING", stream=sys.stderr)  # writes nothing
        off = _alternating({"bare": bare, "backendkit-nolog": other}, loops, repeats)
        out["backendkit-nolog"] = off["backendkit-nolog"]
        out["bare"] = round(statistics.median([out["bare"], off["bare"]]), 2)
    return out


def frameworks(*, quick: bool, unavailable: Collection[str] = ()) -> dict[str, dict[str, float]]:
    """CPU µs per request of whole apps in one process each (see the module docstring).

    backendkit's apps (access line on, then filtered out) and each recipe run in their own
    interpreter (each configures logging for its whole process), every one alternating
    with the bare app, whose figure is the median of the sides'. Every app's log goes to
    ``BENCH_LOG_FILE``, a file (the caller's), as in the servers.
    """
    out: dict[str, dict[str, float]] = {}
    for framework in ("fastapi", "flask"):
        sides = ["backendkit"]
        if f"{framework}-recipe" not in unavailable:
            sides.append("recipe")
        figures: dict[str, float] = {}
        bares = []
        for side in sides:
            command = [sys.executable, __file__, framework, side, "quick" if quick else "full"]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError(f"{framework}-{side} in one process failed:\n{result.stderr}")
            measured = json.loads(result.stdout.splitlines()[-1])
            bares.append(measured.pop("bare"))
            figures.update(measured)
        out[framework] = {"bare": round(statistics.median(bares), 2), **figures}
    return out


if __name__ == "__main__":
    print(json.dumps(_whole_apps(sys.argv[1], sys.argv[2], sys.argv[3] == "quick")))
