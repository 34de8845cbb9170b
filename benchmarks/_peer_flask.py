"""The Flask stack users assemble today for backendkit's duties (bench_adapters.py's peers).

The recipe (structlog's documented Flask pattern, with the request-id recipe that Flask
request-id extensions implement):

- ``before_request``: take the incoming ``X-Request-ID`` or generate a UUID4, clear and
  bind the structlog contextvars (the request id), note the start time;
- ``after_request``: echo ``X-Request-ID``, add ``X-Content-Type-Options: nosniff`` (the
  header backendkit adds), log one ``request_completed`` line with method, path, status
  and duration through structlog (``_peer_logging``'s common configuration);
- the limited variant adds Flask-Limiter (``@limiter.limit``, memory storage,
  sliding-window-counter, headers on): the same options backendkit's ``@rate_limit`` gets.

Every app answers ``GET /json`` with the same bytes as the bare app and backendkit's. Not
done by the recipe but by backendkit: validation of the incoming id, the error envelope
for every error, the body cap, redaction of secrets in log lines (the peer does less,
which can only make it faster).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from _adapter_apps import BIG_LIMIT, ITEM
from _peer_logging import access_logger, configure


def _recipe_app(name: str) -> Any:
    import structlog
    from flask import Flask, g, request

    configure()
    log = access_logger()
    app = Flask(name)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # backendkit's key order, same bytes

    @app.before_request
    def bind_request() -> None:
        g.started = time.perf_counter_ns()
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def log_request(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        log.info(
            "request_completed",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter_ns() - g.started) / 1e6, 3),
        )
        return response

    return app


def recipe() -> Any:
    """Flask + the request-id recipe + structlog."""
    app = _recipe_app("recipe")

    @app.get("/json")
    def item() -> Any:
        return {"success": True, "data": ITEM, "message": None}

    return app


def recipe_limiter() -> Any:
    """The recipe plus Flask-Limiter on the route (the limited variant)."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = _recipe_app("recipe_limiter")
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
