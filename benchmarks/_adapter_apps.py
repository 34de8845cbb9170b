"""The apps benchmarks/bench_adapters.py serves (imported by uvicorn and gunicorn workers).

Every app answers ``GET /json`` with the same envelope. ``BENCH_LOG_FILE`` names the file
backendkit's JSON access log goes to (one line per request); ``BENCH_LOG_LEVEL`` its level.
"""

# No `from __future__ import annotations`: FastAPI resolves these route annotations.
import os
import time
from typing import Any

ITEM = {"id": 42, "name": "Widget", "tags": ["a", "b", "c"], "price": "9.99", "active": True}
BIG_LIMIT = "1000000/minute"  # never reached: the limiter's cost, not its denials, is timed


def _kit(*, sync_limiter: bool = False, async_limiter: bool = False) -> Any:
    from backendkit.logging import configure_logging
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
    from backendkit.settings import Settings
    from backendkit.web import WebKit

    log_file = os.environ.get("BENCH_LOG_FILE")
    stream = open(log_file, "a", buffering=1 << 16) if log_file else None  # noqa: SIM115
    configure_logging(fmt="json", level=os.environ.get("BENCH_LOG_LEVEL", "INFO"), stream=stream)
    return WebKit.from_settings(
        Settings(env="test"),
        limiter=RateLimiter("memory://") if sync_limiter else None,
        async_limiter=AsyncRateLimiter("memory://") if async_limiter else None,
    )


# --------------------------------------------------------------------------- FastAPI


def _fastapi_bare() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/json")
    async def item() -> dict[str, Any]:
        return {"success": True, "data": ITEM, "message": None}

    return app


def _fastapi_kit(limit: bool = False) -> Any:
    from fastapi import FastAPI

    from backendkit.adapters.fastapi import RateLimit, install
    from backendkit.responses import success

    app = FastAPI()
    install(app, _kit(async_limiter=limit))
    deps = [RateLimit(BIG_LIMIT)] if limit else []

    @app.get("/json", dependencies=deps)
    async def item() -> dict[str, Any]:
        return success(ITEM)

    return app


def _fastapi_basehttp() -> Any:
    """The same per-request work as BackendKitMiddleware, written as a BaseHTTPMiddleware."""
    from fastapi import FastAPI, Request
    from starlette.middleware.base import BaseHTTPMiddleware

    from backendkit.responses import success
    from backendkit.web import RequestCycle, render_error

    kit = _kit()

    class Middleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: Any) -> Any:
            cycle = RequestCycle.start(
                method=request.method,
                path=request.url.path,
                request_id_header=request.headers.get("x-request-id"),
                clock=kit.clock,
            )
            try:
                response = await call_next(request)
            except Exception as exc:  # pragma: no cover - not exercised by the benchmark
                from starlette.responses import Response

                rendered = render_error(exc, request_id=cycle.request_id)
                response = Response(rendered.body, rendered.status, media_type=rendered.media_type)
            for name, value in cycle.response_headers(response.headers.keys()).items():
                response.headers[name] = value
            cycle.finish(response.status_code)
            return response

    app = FastAPI()
    app.add_middleware(Middleware)

    @app.get("/json")
    async def item() -> dict[str, Any]:
        return success(ITEM)

    return app


class _FloorLog:
    """The least an access log can cost: one JSON line per request, written and flushed.

    No structlog, no processors, no redaction: what a hand-written middleware with the
    same duties would do at best (the floor rows).
    """

    def __init__(self) -> None:
        log_file = os.environ.get("BENCH_LOG_FILE")
        self.stream = open(log_file or os.devnull, "a", buffering=1 << 16)  # noqa: SIM115

    def write(self, method: str, path: str, status: int, started: float, request_id: str) -> None:
        duration = round((time.monotonic() - started) * 1000.0, 3)
        self.stream.write(
            f'{{"method":"{method}","path":"{path}","status":{status},'
            f'"duration_ms":{duration},"request_id":"{request_id}",'
            f'"event":"request_completed"}}\n'
        )
        self.stream.flush()


def _fastapi_floor() -> Any:
    """Bare FastAPI plus the minimum of the adapter's per-request duties, hand-written.

    A request id (generated), bound in a contextvar for the request; ``X-Request-ID`` and
    ``X-Content-Type-Options`` on the response; one JSON access-log line. Nothing else:
    no id validation, body cap, error envelope, charset, redaction or log pipeline.
    """
    from contextvars import ContextVar

    app = _fastapi_bare()
    log = _FloorLog()
    context: ContextVar[dict[str, str]] = ContextVar("floor_context")
    build = app.build_middleware_stack

    def build_with_floor() -> Any:
        inner = build()

        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            started = time.monotonic()
            request_id = os.urandom(16).hex()
            token = context.set({"request_id": request_id})
            status = 500

            async def decorated_send(message: Any) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [
                        *message.get("headers", ()),
                        (b"x-request-id", request_id.encode()),
                        (b"x-content-type-options", b"nosniff"),
                    ]
                await send(message)

            try:
                await inner(scope, receive, decorated_send)
            finally:
                log.write(scope["method"], scope["path"], status, started, request_id)
                context.reset(token)

        return middleware

    setattr(app, "build_middleware_stack", build_with_floor)  # noqa: B010
    return app


def _fastapi_slowapi() -> Any:
    from fastapi import FastAPI, Request, Response
    from slowapi import Limiter
    from slowapi.util import get_remote_address

    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri="memory://",
        strategy="sliding-window-counter",
        headers_enabled=True,
    )
    app = FastAPI()
    app.state.limiter = limiter

    @app.get("/json")
    @limiter.limit(BIG_LIMIT)
    async def item(request: Request, response: Response) -> dict[str, Any]:
        return {"success": True, "data": ITEM, "message": None}

    return app


# --------------------------------------------------------------------------- Flask


def _flask_bare() -> Any:
    from flask import Flask

    app = Flask("bare")

    @app.get("/json")
    def item() -> Any:
        return {"success": True, "data": ITEM, "message": None}

    return app


def _flask_kit(limit: bool = False) -> Any:
    from flask import Flask

    from backendkit.adapters.flask import BackendKit, rate_limit
    from backendkit.responses import success

    app = Flask("kit")
    BackendKit(app, kit=_kit(sync_limiter=limit))

    def item() -> Any:
        return success(ITEM)

    view = rate_limit(BIG_LIMIT)(item) if limit else item
    app.add_url_rule("/json", "item", view, methods=["GET"])
    return app


def _flask_floor() -> Any:
    """Bare Flask plus the minimum of the adapter's per-request duties, hand-written.

    The same duties as ``_fastapi_floor``, in before/after/teardown hooks.
    """
    from flask import g, request

    app = _flask_bare()
    log = _FloorLog()

    @app.before_request
    def start() -> None:
        g.floor = (time.monotonic(), os.urandom(16).hex())

    @app.after_request
    def headers(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.floor[1]
        response.headers["X-Content-Type-Options"] = "nosniff"
        g.status = response.status_code
        return response

    @app.teardown_request
    def finish(_exc: BaseException | None) -> None:
        started, request_id = g.floor
        log.write(request.method, request.path, g.get("status", 500), started, request_id)

    return app


def _flask_limiter() -> Any:
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = Flask("flask_limiter")
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri="memory://",
        strategy="sliding-window-counter",
        headers_enabled=True,
    )

    @app.get("/json")
    @limiter.limit(BIG_LIMIT)
    def item() -> Any:
        return {"success": True, "data": ITEM, "message": None}

    return app


BUILDERS = {
    "fastapi-bare": _fastapi_bare,
    "fastapi-floor": _fastapi_floor,
    "fastapi-backendkit": _fastapi_kit,
    "fastapi-basehttpmiddleware": _fastapi_basehttp,
    "fastapi-backendkit-limit": lambda: _fastapi_kit(limit=True),
    "fastapi-slowapi": _fastapi_slowapi,
    "flask-bare": _flask_bare,
    "flask-floor": _flask_floor,
    "flask-backendkit": _flask_kit,
    "flask-backendkit-limit": lambda: _flask_kit(limit=True),
    "flask-limiter": _flask_limiter,
}


def app() -> Any:
    """The app named by ``BENCH_APP`` (the server's import target).

    A ``-nolog`` suffix serves the same app with the log level at WARNING, so the
    per-request access-log line is filtered out (its cost is then measured apart).
    """
    name = os.environ["BENCH_APP"].removesuffix("-serverlog")  # the server's flag, same app
    if name.endswith("-nolog"):
        os.environ["BENCH_LOG_LEVEL"] = "WARNING"
        name = name.removesuffix("-nolog")
    return BUILDERS[name]()
