"""Request tracing through each adapter (Flask, FastAPI, Django, DRF): one server span per
request named by the route template, with Redis and SQL children from a real Redis and
SQLite, the trace id on the request's log lines, and an incoming ``traceparent`` continued.

This module is also the Django URLconf of its Django app (``request.urlconf``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from django.urls import path
from fastapi import APIRouter, FastAPI
from flask import Flask
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from rest_framework.response import Response
from rest_framework.views import APIView
from sqlalchemy.ext.asyncio import create_async_engine
from tests._tracing import Spans, hex_trace_id
from tests.adapters._apps import TestClient  # imported without Starlette's httpx2 warning
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters import django as bk_django
from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.logging import get_logger
from backendkit.settings import Settings
from backendkit.testing import capture_logs
from backendkit.tracing import Tracing
from backendkit.web import WebKit

Send = Callable[..., tuple[int, bytes]]

_log = get_logger("tests.tracing")
_SECRET = "never-in-a-span-7f3a"  # a SQL parameter value no attribute may carry
_STATE: dict[str, Any] = {}  # the current Django app's kit, engine and key prefix

# W3C trace-context example: the caller's trace and its span.
_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
_PARENT_ID = "b7ad6b7169203331"
_TRACEPARENT = f"00-{_TRACE_ID}-{_PARENT_ID}-01"

# --------------------------------------------------------------------------- the work


def _sync_work(kit: WebKit, engine: sa.Engine, prefix: str, item_id: str) -> dict[str, Any]:
    """What each sync view does: a Redis command, a SQL statement, a log line."""
    assert kit.redis is not None
    kit.redis.execute(lambda r: r.set(f"{prefix}{item_id}", "1", px=60_000))
    with engine.connect() as connection:
        value = connection.execute(sa.text("SELECT :v AS v"), {"v": _SECRET}).scalar()
    _log.info("item_served", item=item_id)
    return {"id": item_id, "ok": value == _SECRET}


# --------------------------------------------------------------------------- Django and DRF


def _dj_item(request: Any, item_id: str) -> Any:
    return bk_django.success_response(
        _sync_work(_STATE["kit"], _STATE["engine"], _STATE["prefix"], item_id)
    )


def _dj_boom(request: Any) -> Any:
    raise RuntimeError("boom")


class _DrfItem(APIView):
    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = []

    def get(self, request: Any, item_id: str) -> Any:
        return Response(_sync_work(_STATE["kit"], _STATE["engine"], _STATE["prefix"], item_id))


urlpatterns = [
    path("api/items/<str:item_id>", _dj_item),
    path("api/drf/items/<str:item_id>", _DrfItem.as_view()),
    path("api/boom", _dj_boom),
    path("health", bk_django.health_view(database=None)),
]

# --------------------------------------------------------------------------- the apps


def _flask(kit: WebKit, engine: sa.Engine, prefix: str) -> Send:
    bk = bk_flask
    app = Flask("tracing_test")
    bk.BackendKit(app, kit=kit)

    @app.get("/api/items/<item_id>")
    def item(item_id: str) -> Any:
        return _sync_work(kit, engine, prefix, item_id)

    @app.get("/api/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    bk.add_health_route(app, "/health")
    client = app.test_client()

    def send(method: str, url: str, **headers: str) -> tuple[int, bytes]:
        response = client.open(url, method=method, headers=headers)
        return response.status_code, response.get_data()

    return send


def _fastapi(kit: WebKit, engine: sa.Engine, prefix: str) -> Send:
    bk = bk_fastapi
    app = FastAPI()
    bk.install(app, kit)
    items = APIRouter(prefix="/items")
    async_engine = create_async_engine("sqlite+aiosqlite://")
    _STATE["tracing"].watch_engine(async_engine)

    @items.get("/{item_id}")
    async def item(item_id: str) -> Any:
        assert kit.async_redis is not None
        await kit.async_redis.execute(lambda r: r.set(f"{prefix}{item_id}", "1", px=60_000))
        async with async_engine.connect() as connection:
            value = (await connection.execute(sa.text("SELECT :v AS v"), {"v": _SECRET})).scalar()
        _log.info("item_served", item=item_id)
        return {"id": item_id, "ok": value == _SECRET}

    app.include_router(items, prefix="/api")

    @app.get("/api/boom")
    async def boom() -> Any:
        raise RuntimeError("boom")

    bk.add_health_route(app, "/health")
    # Entered: the lifespan's shutdown closes the kit's async connections in its loop.
    client = TestClient(app, raise_server_exceptions=False).__enter__()
    _STATE["closers"].append(lambda: client.__exit__(None, None, None))

    def send(method: str, url: str, **headers: str) -> tuple[int, bytes]:
        response = client.request(method, url, headers=headers)
        return response.status_code, response.content

    return send


def _django(kit: WebKit, engine: sa.Engine, prefix: str) -> Send:
    use_kit(kit)
    client = client_for(__name__)

    def send(method: str, url: str, **headers: str) -> tuple[int, bytes]:
        extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        response = client.generic(method, url, **extra)
        return response.status_code, response.content

    return send


@dataclass(frozen=True)
class App:
    name: str
    send: Send
    spans: Spans
    item_url: str  # the item route with {id} in place of the id
    item_route: str


_TEMPLATES = {
    "flask": ("/api/items/{id}", "/api/items/<item_id>"),
    "fastapi": ("/api/items/{id}", "/api/items/{item_id}"),
    "django": ("/api/items/{id}", "/api/items/<str:item_id>"),
    "drf": ("/api/drf/items/{id}", "/api/drf/items/<str:item_id>"),
}
_BUILDERS = {"flask": _flask, "fastapi": _fastapi, "django": _django, "drf": _django}


@pytest.fixture(params=sorted(_BUILDERS))
def app(request: pytest.FixtureRequest, redis_url: str, redis_prefix: str) -> Iterator[App]:
    spans = Spans()
    tracing = Tracing(spans.provider)
    settings = Settings(env="test", secret_key="k" * 32, redis_url=redis_url)
    kit = WebKit.from_settings(settings, tracing=tracing, redis_key_prefix=redis_prefix)
    engine = sa.create_engine("sqlite://")
    tracing.watch_engine(engine)
    _STATE.update(kit=kit, engine=engine, prefix=redis_prefix, tracing=tracing, closers=[])
    send = _BUILDERS[request.param](kit, engine, redis_prefix)
    url, route = _TEMPLATES[request.param]
    yield App(request.param, send, spans, url, route)
    for close in _STATE["closers"]:
        close()
    kit.close()
    engine.dispose()


def _only_server(app: App) -> ReadableSpan:
    servers = app.spans.servers()
    assert len(servers) == 1, [span.name for span in servers]
    return servers[0]


# --------------------------------------------------------------------------- the tests


def test_one_request_is_a_server_span_with_redis_and_sql_children(app: App) -> None:
    """The span tree of one request: the server span, a Redis SET and a SQL SELECT under it."""
    status, _ = app.send("GET", app.item_url.format(id="42"))
    assert status == 200
    server = _only_server(app)
    assert server.name == f"GET {app.item_route}"
    attributes = dict(server.attributes or {})
    assert attributes["http.route"] == app.item_route
    assert attributes["http.request.method"] == "GET"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.path"] == app.item_url.format(id="42")
    assert len(str(attributes["backendkit.request_id"])) == 32
    children = {span.name: span for span in app.spans.children(server)}
    assert set(children) == {"SET", "SELECT"}
    assert children["SET"].kind == SpanKind.CLIENT
    assert children["SET"].attributes is not None
    assert children["SET"].attributes["db.system"] == "redis"
    sql = dict(children["SELECT"].attributes or {})
    assert sql["db.system"] == "sqlite"
    assert sql["db.statement"].startswith("SELECT ")
    every_value = [
        str(v) for span in app.spans.finished() for v in (span.attributes or {}).values()
    ]
    assert not [value for value in every_value if _SECRET in value]
    assert server.status.status_code == StatusCode.UNSET


def test_the_request_id_on_the_span_is_the_response_header(app: App) -> None:
    """The span's ``backendkit.request_id`` is the id the client got back (and sent)."""
    app.send("GET", app.item_url.format(id="1"), **{"X-Request-ID": "req-trace-1"})
    assert dict(_only_server(app).attributes or {})["backendkit.request_id"] == "req-trace-1"


def test_the_trace_id_is_on_every_log_line_of_the_request(app: App) -> None:
    """The view's line names its trace, and so does the access line written after the span."""
    with capture_logs() as logs:
        app.send("GET", app.item_url.format(id="7"))
    server = _only_server(app)
    served = [entry for entry in logs if entry["event"] == "item_served"]
    completed = [entry for entry in logs if entry["event"] == "request_completed"]
    assert len(served) == 1
    assert len(completed) == 1
    assert served[0]["trace_id"] == completed[0]["trace_id"] == hex_trace_id(server)
    assert completed[0]["span_id"] == format(server.context.span_id, "016x")
    assert served[0]["request_id"] == dict(server.attributes or {})["backendkit.request_id"]


def test_an_incoming_traceparent_is_continued(app: App) -> None:
    """The server span joins the caller's trace, as the child of the caller's span."""
    app.send("GET", app.item_url.format(id="3"), traceparent=_TRACEPARENT)
    server = _only_server(app)
    assert hex_trace_id(server) == _TRACE_ID
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == _PARENT_ID
    assert server.parent.is_remote


def test_without_a_traceparent_each_request_starts_its_own_trace(app: App) -> None:
    """The valid twin: no header, no parent, and two requests are two traces."""
    app.send("GET", app.item_url.format(id="1"))
    app.send("GET", app.item_url.format(id="2"))
    servers = app.spans.servers()
    assert [span.parent for span in servers] == [None, None]
    assert len({hex_trace_id(span) for span in servers}) == 2


def test_spans_are_named_by_template_never_by_path(app: App) -> None:
    """Distinct ids share one name; unknown paths are named by their method alone."""
    for item in ("a", "b", "c"):
        app.send("GET", app.item_url.format(id=item))
    app.send("GET", "/no/such/path")
    app.send("GET", "/another/unknown/path")
    app.send("PURGE", app.item_url.format(id="a"))
    names = sorted(span.name for span in app.spans.servers())
    assert names[:2] == ["GET", "GET"]
    assert names.count(f"GET {app.item_route}") == 3
    unmatched = [span for span in app.spans.servers() if span.name == "GET"]
    assert all("http.route" not in (span.attributes or {}) for span in unmatched)
    assert all(
        dict(span.attributes or {})["http.response.status_code"] == 404 for span in unmatched
    )
    other = [span for span in app.spans.servers() if span.name.startswith("HTTP")]
    assert len(other) == 1
    assert dict(other[0].attributes or {})["http.request.method"] == "_OTHER"
    assert dict(other[0].attributes or {})["http.request.method_original"] == "PURGE"


def test_a_server_error_is_an_error_span(app: App) -> None:
    """A 500 sets the span's error status and ``error.type`` to the catalogue code."""
    status, _ = app.send("GET", "/api/boom")
    assert status == 500
    server = _only_server(app)
    assert server.status.status_code == StatusCode.ERROR
    attributes = dict(server.attributes or {})
    assert attributes["error.type"] == "INTERNAL_ERROR"
    assert attributes["http.response.status_code"] == 500


def test_a_client_error_is_not_an_error_span(app: App) -> None:
    """The twin: a 404 is the client's error, the span's status stays unset."""
    app.send("GET", "/no/such/path")
    server = _only_server(app)
    assert server.status.status_code == StatusCode.UNSET
    assert dict(server.attributes or {})["backendkit.error.code"] == "NOT_FOUND"


def test_health_probes_are_not_traced(app: App) -> None:
    """A probe makes no span at all (nor its checks); a request after it is traced."""
    assert app.send("GET", "/health")[0] == 200
    assert list(app.spans.finished()) == []
    app.send("GET", app.item_url.format(id="1"))
    assert len(app.spans.servers()) == 1
