"""The apps benchmarks/bench_adapters.py serves (imported by uvicorn and gunicorn workers).

Every app answers ``GET /json`` with the same bytes: the bare apps and backendkit's here,
the peers' recipes in ``_peer_fastapi.py`` and ``_peer_flask.py``. ``BENCH_LOG_FILE`` names
the file the JSON access log goes to (one line per request); ``BENCH_LOG_LEVEL`` its level.
"""

# No `from __future__ import annotations`: FastAPI resolves these route annotations.
import importlib
import os
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


# --------------------------------------------------------------------------- Flask


def _flask_bare() -> Any:
    from flask import Flask

    app = Flask("bare")
    app.json.sort_keys = False  # type: ignore[attr-defined]  # backendkit's key order, same bytes

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


def _peer(module: str, builder: str) -> Any:
    # The peer modules import this one (ITEM, BIG_LIMIT): imported when their app is built.
    return getattr(importlib.import_module(module), builder)()


BUILDERS = {
    "fastapi-bare": _fastapi_bare,
    "fastapi-backendkit": _fastapi_kit,
    "fastapi-backendkit-limit": lambda: _fastapi_kit(limit=True),
    "fastapi-recipe": lambda: _peer("_peer_fastapi", "recipe"),
    "fastapi-recipe-slowapi": lambda: _peer("_peer_fastapi", "recipe_slowapi"),
    "flask-bare": _flask_bare,
    "flask-backendkit": _flask_kit,
    "flask-backendkit-limit": lambda: _flask_kit(limit=True),
    "flask-recipe": lambda: _peer("_peer_flask", "recipe"),
    "flask-recipe-limiter": lambda: _peer("_peer_flask", "recipe_limiter"),
}


def app() -> Any:
    """The app named by ``BENCH_APP`` (the server's import target).

    A ``-nolog`` suffix serves the same app with the log level at WARNING, so the
    per-request access-log line is filtered out (its cost is then measured apart).
    """
    name = os.environ["BENCH_APP"]
    if name.endswith("-nolog"):
        os.environ["BENCH_LOG_LEVEL"] = "WARNING"
        name = name.removesuffix("-nolog")
    return BUILDERS[name]()
