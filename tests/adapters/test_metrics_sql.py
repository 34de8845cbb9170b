"""Statements per request: ``backendkit_http_request_sql_statements{method,route}`` counts
what each request ran on the watched engines, in a sync Flask view (the request's thread)
and in an async FastAPI route on an async engine (SQLAlchemy's greenlets)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from flask import Flask
from prometheus_client import CollectorRegistry
from tests.adapters._apps import TestClient  # imported without Starlette's httpx2 warning

from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.metrics import Metrics
from backendkit.repository import build_async_engine, build_engine
from backendkit.settings import Settings
from backendkit.web import WebKit

STATEMENTS = "backendkit_http_request_sql_statements"
Get = Callable[[str], int]


def _kit(registry: CollectorRegistry) -> WebKit:
    return WebKit.from_settings(
        Settings(env="test", secret_key="k" * 32), metrics=Metrics(registry)
    )


def _flask(kit: WebKit, tmp: Path, watch: bool) -> Get:
    engine = build_engine(f"sqlite:///{tmp / 'flask.db'}")
    if watch:
        kit.metrics.watch_engine(engine)  # type: ignore[union-attr]
    app = Flask("metrics_sql")
    bk_flask.BackendKit(app, kit=kit)

    @app.get("/api/items/<int:count>")
    def items(count: int) -> Any:
        with engine.connect() as conn:
            for _ in range(count):
                conn.execute(sa.text("SELECT 1"))
        return {"ran": count}

    client = app.test_client()
    return lambda url: client.get(url).status_code


def _fastapi(kit: WebKit, tmp: Path, watch: bool) -> Get:
    engine = build_async_engine(f"sqlite+aiosqlite:///{tmp / 'fastapi.db'}")
    if watch:
        kit.metrics.watch_engine(engine)  # type: ignore[union-attr]
    app = FastAPI()
    bk_fastapi.install(app, kit)

    @app.get("/api/items/{count}")
    async def items(count: int) -> Any:
        async with engine.connect() as conn:
            for _ in range(count):
                await conn.execute(sa.text("SELECT 1"))
        return {"ran": count}

    client = TestClient(app)
    return lambda url: client.get(url).status_code


ROUTES = {"flask": "/api/items/<int:count>", "fastapi": "/api/items/{count}"}
BUILDERS = {"flask": _flask, "fastapi": _fastapi}


def _sample(registry: CollectorRegistry, suffix: str, route: str) -> float | None:
    labels = {"method": "GET", "route": route}
    return registry.get_sample_value(STATEMENTS + suffix, labels)


@pytest.fixture(params=sorted(BUILDERS))
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_each_request_observes_the_statements_it_ran(framework: str, tmp_path: Path) -> None:
    """Requests running 3, 0 and 4 statements: three observations summing to 7, the
    request with none in the 0 bucket."""
    registry = CollectorRegistry()
    kit = _kit(registry)
    get = BUILDERS[framework](kit, tmp_path, True)
    try:
        assert [get("/api/items/3"), get("/api/items/0"), get("/api/items/4")] == [200] * 3
        route = ROUTES[framework]
        assert _sample(registry, "_count", route) == 3
        assert _sample(registry, "_sum", route) == 7
        zero = registry.get_sample_value(
            STATEMENTS + "_bucket", {"method": "GET", "route": route, "le": "0.0"}
        )
        assert zero == 1
    finally:
        kit.close()


def test_no_engine_watched_records_nothing(framework: str, tmp_path: Path) -> None:
    """The twin: the same requests with no engine watched add no statement series."""
    registry = CollectorRegistry()
    kit = _kit(registry)
    get = BUILDERS[framework](kit, tmp_path, False)
    try:
        assert get("/api/items/3") == 200
        assert _sample(registry, "_count", ROUTES[framework]) is None
    finally:
        kit.close()
