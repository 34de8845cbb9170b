"""The FastAPI stack users assemble today for backendkit's duties (bench_adapters.py's peers).

The recipe (the common FastAPI + uvicorn + structlog + asgi-correlation-id setup):

- ``asgi_correlation_id.CorrelationIdMiddleware`` (pure ASGI): accepts a valid incoming
  ``X-Request-ID`` or generates one, keeps it in a contextvar, echoes it on the response;
- an access-log middleware, here written as pure ASGI middleware (the recipe's usual form
  is ``@app.middleware("http")``, a ``BaseHTTPMiddleware``, which costs far more per
  request: the peer gets the faster form): it clears and binds the structlog contextvars
  (the request id), times the request and logs one ``request_completed`` line with
  method, path, status and duration through structlog (``_peer_logging``), and adds the
  ``X-Content-Type-Options: nosniff`` header backendkit adds;
- the limited variant adds slowapi (``@limiter.limit``, memory storage,
  sliding-window-counter, headers on): the same options backendkit's ``RateLimit`` gets.

Every app answers ``GET /json`` with the same bytes as the bare app and backendkit's.
Not done by the recipe but by backendkit: the error envelope for every error, the body
cap, redaction of secrets in log lines (the peer does less, which can only make it faster).
"""

# No `from __future__ import annotations`: FastAPI resolves these route annotations.
import time
from typing import Any

from _adapter_apps import BIG_LIMIT, ITEM
from _peer_logging import access_logger, configure

_NOSNIFF = (b"x-content-type-options", b"nosniff")


class AccessLogMiddleware:
    """The recipe's access-log middleware, in pure ASGI."""

    def __init__(self, app: Any) -> None:
        import structlog
        from asgi_correlation_id import correlation_id

        self.app = app
        self.log = access_logger()
        self.contextvars = structlog.contextvars
        self.correlation_id = correlation_id

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.contextvars.clear_contextvars()
        self.contextvars.bind_contextvars(request_id=self.correlation_id.get())
        started = time.perf_counter_ns()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), _NOSNIFF]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.log.info(
                "request_completed",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter_ns() - started) / 1e6, 3),
            )


def _recipe_app() -> Any:
    from asgi_correlation_id import CorrelationIdMiddleware
    from fastapi import FastAPI

    configure()
    app = FastAPI()
    # add_middleware puts each new one outside the previous: the id is set before the log.
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    return app


def recipe() -> Any:
    """FastAPI + asgi-correlation-id + a structlog access-log middleware."""
    app = _recipe_app()

    @app.get("/json")
    async def item() -> dict[str, Any]:
        return {"success": True, "data": ITEM, "message": None}

    return app


def recipe_slowapi() -> Any:
    """The recipe plus slowapi on the route (the limited variant)."""
    from fastapi import Request, Response
    from slowapi import Limiter
    from slowapi.util import get_remote_address

    app = _recipe_app()
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri="memory://",
        strategy="sliding-window-counter",
        headers_enabled=True,
    )
    app.state.limiter = limiter

    @app.get("/json")
    @limiter.limit(BIG_LIMIT)
    async def item(request: Request, response: Response) -> dict[str, Any]:
        return {"success": True, "data": ITEM, "message": None}

    return app
