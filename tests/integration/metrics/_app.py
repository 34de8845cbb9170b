"""A small service with metrics, as the examples build it, for the multiprocess tests: in
Flask for gunicorn, in FastAPI for ``uvicorn --workers``, the same routes in both."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from flask import Flask

from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters.flask import (
    BackendKit,
    add_health_route,
    add_metrics_route,
    require_auth,
)
from backendkit.metrics import Metrics
from backendkit.settings import Settings
from backendkit.web import WebKit


def create_app() -> Flask:
    """The app gunicorn serves: ``tests.integration.metrics._app:create_app()``."""
    kit = WebKit.from_settings(Settings.from_env(), metrics=Metrics())
    app = Flask(__name__)
    BackendKit(app, kit=kit)
    assert kit.cache is not None

    @kit.cache.cached(ttl=300, namespace="squares")
    def square(number: int) -> int:
        return number * number

    @app.get("/api/squares/<int:number>")
    def squared(number: int) -> Any:
        return {"square": square(number), "pid": os.getpid()}

    @app.get("/api/items/<item_id>")
    def item(item_id: str) -> Any:
        return {"id": item_id, "pid": os.getpid()}

    @app.get("/api/secret")
    @require_auth
    def secret() -> Any:
        return {}

    add_health_route(app)
    add_metrics_route(app)
    return app


def create_asgi_app() -> FastAPI:
    """The same service for uvicorn: ``tests.integration.metrics._app:create_asgi_app``."""
    kit = WebKit.from_settings(Settings.from_env(), metrics=Metrics())
    app = FastAPI()
    bk_fastapi.install(app, kit)
    assert kit.cache is not None

    @kit.cache.cached(ttl=300, namespace="squares")
    async def square(number: int) -> int:
        return number * number

    @app.get("/api/items/{item_id}")
    async def item(item_id: str) -> Any:
        return {"id": item_id, "pid": os.getpid()}

    @app.get("/api/secret")
    async def secret(user: bk_fastapi.CurrentUser) -> Any:
        return {}

    @app.get("/api/squares/{number}")
    async def squared(number: int) -> Any:
        return {"square": await square(number), "pid": os.getpid()}

    bk_fastapi.add_health_route(app)
    bk_fastapi.add_metrics_route(app)
    return app
