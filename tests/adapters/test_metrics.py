"""Request metrics through each adapter's test client: exact counts for a known mix, by
route template (never the raw path), and a bounded number of series whatever the paths.

This module is also the Django URLconf of its Django app (``request.urlconf``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import path
from fastapi import APIRouter, FastAPI
from flask import Flask
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from tests.adapters._apps import TestClient  # imported without Starlette's httpx2 warning
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters import django as bk_django
from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.metrics import Metrics
from backendkit.settings import Settings
from backendkit.web import WebKit

Send = Callable[..., tuple[int, bytes]]

# --------------------------------------------------------------------------- the apps


def _kit(registry: CollectorRegistry) -> WebKit:
    settings = Settings(env="test", secret_key="k" * 32)
    return WebKit.from_settings(settings, metrics=Metrics(registry))


@bk_django.rate_limit("2/minute", name="limited")
def _dj_limited(request: Any) -> Any:
    return bk_django.success_response({})


@bk_django.require_auth
def _dj_secret(request: Any) -> Any:
    return bk_django.success_response({})


def _dj_item(request: Any, item_id: str) -> Any:
    return bk_django.success_response({"id": item_id})


urlpatterns = [
    path("api/items/<str:item_id>", _dj_item),
    path("api/secret", _dj_secret),
    path("api/limited", _dj_limited),
    path("health", bk_django.health_view(database=None)),
    path("metrics", bk_django.metrics_view()),
]


def _flask(kit: WebKit) -> Send:
    bk = bk_flask
    app = Flask("metrics_test")
    bk.BackendKit(app, kit=kit)

    @app.get("/api/items/<item_id>")
    def item(item_id: str) -> Any:
        return {"id": item_id}

    @app.get("/api/secret")
    @bk.require_auth
    def secret() -> Any:
        return {}

    @app.post("/api/limited")
    @bk.rate_limit("2/minute", name="limited")
    def limited() -> Any:
        return {}

    bk.add_health_route(app, "/health")
    bk.add_metrics_route(app)
    client = app.test_client()

    def send(method: str, url: str, **headers: str) -> tuple[int, bytes]:
        response = client.open(url, method=method, headers=headers)
        return response.status_code, response.get_data()

    return send


def _fastapi(kit: WebKit) -> Send:
    bk = bk_fastapi
    app = FastAPI()
    bk.install(app, kit)
    items = APIRouter(prefix="/items")  # the template includes every router's prefix

    @items.get("/{item_id}")
    async def item(item_id: str) -> Any:
        return {"id": item_id}

    app.include_router(items, prefix="/api")

    @app.get("/api/secret")
    async def secret(user: bk_fastapi.CurrentUser) -> Any:
        return {}

    @app.post("/api/limited", dependencies=[bk.RateLimit("2/minute", name="limited")])
    async def limited() -> Any:
        return {}

    bk.add_health_route(app, "/health")
    bk.add_metrics_route(app)
    client = TestClient(app)

    def send(method: str, url: str, **headers: str) -> tuple[int, bytes]:
        response = client.request(method, url, headers=headers)
        return response.status_code, response.content

    return send


def _django(kit: WebKit) -> Send:
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
    registry: CollectorRegistry
    item_route: str


_TEMPLATES = {
    "flask": "/api/items/<item_id>",
    "fastapi": "/api/items/{item_id}",
    "django": "/api/items/<str:item_id>",
}
_BUILDERS = {"flask": _flask, "fastapi": _fastapi, "django": _django}


@pytest.fixture(params=sorted(_BUILDERS))
def app(request: pytest.FixtureRequest) -> Iterator[App]:
    registry = CollectorRegistry()
    kit = _kit(registry)
    yield App(request.param, _BUILDERS[request.param](kit), registry, _TEMPLATES[request.param])
    kit.close()


# --------------------------------------------------------------------------- reading


def samples(app: App, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample ``name`` has in the app's ``/metrics`` scrape, by its sorted labels."""
    status, body = app.send("GET", "/metrics")
    assert status == 200
    found = {}
    for family in text_string_to_metric_families(body.decode("utf-8")):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(app: App, name: str, **labels: str) -> float:
    """The sample of ``name`` with exactly ``labels`` (0 when absent)."""
    return samples(app, name).get(tuple(sorted(labels.items())), 0.0)


def _mix(app: App) -> None:
    for item in ("1", "2", "3"):
        assert app.send("GET", f"/api/items/{item}")[0] == 200
    for _ in range(2):
        assert app.send("GET", "/api/secret")[0] == 401
    assert [app.send("POST", "/api/limited")[0] for _ in range(3)] == [200, 200, 429]
    assert app.send("GET", "/no/such/path")[0] == 404
    assert app.send("GET", "/another/unknown")[0] == 404
    assert app.send("GET", "/health")[0] == 200
    app.send("PURGE", "/api/items/1")


# --------------------------------------------------------------------------- the tests


def test_a_known_mix_is_counted_exactly_by_route_template(app: App) -> None:
    """Each request of the mix lands in its (method, route template, status) series once."""
    _mix(app)
    total = "backendkit_http_requests_total"
    assert value(app, total, method="GET", route=app.item_route, status="200") == 3
    assert value(app, total, method="GET", route="/api/secret", status="401") == 2
    assert value(app, total, method="POST", route="/api/limited", status="200") == 2
    assert value(app, total, method="POST", route="/api/limited", status="429") == 1
    assert value(app, total, method="GET", route="unmatched", status="404") == 2
    counted = samples(app, total)
    assert sum(counted.values()) == 11  # the scrapes and the health probe are not counted
    other = [count for labels, count in counted.items() if ("method", "_OTHER") in labels]
    assert other == [1]
    assert not [labels for labels in counted if ("route", "/metrics") in labels]
    assert not [labels for labels in counted if ("route", "/health") in labels]


def test_errors_are_counted_by_catalogue_code(app: App) -> None:
    """Rendered errors count by route and code: 401s, the 429 and the route misses."""
    _mix(app)
    errors = "backendkit_http_errors_total"
    assert value(app, errors, route="/api/secret", code="UNAUTHENTICATED") == 2
    assert value(app, errors, route="/api/limited", code="RATE_LIMITED") == 1
    assert value(app, errors, route="unmatched", code="NOT_FOUND") == 2


def test_durations_in_flight_and_limit_decisions(app: App) -> None:
    """One duration per request, nothing left in flight, the limiter's own decisions."""
    _mix(app)
    count = "backendkit_http_request_duration_seconds_count"
    assert value(app, count, method="GET", route=app.item_route) == 3
    assert value(app, "backendkit_http_requests_in_progress") == 0
    decisions = "backendkit_ratelimit_decisions_total"
    assert value(app, decisions, rule="limited", decision="allowed", source="storage") == 2
    assert value(app, decisions, rule="limited", decision="denied", source="storage") == 1


def test_distinct_ids_and_unknown_paths_add_a_bounded_number_of_series(app: App) -> None:
    """Hundreds of ids and unknown paths: one series for the route, one for the misses."""
    count = 2000 if app.name == "flask" else 300
    for index in range(count):
        app.send("GET", f"/api/items/{index}")
        app.send("GET", f"/unknown/{index}")
    series = samples(app, "backendkit_http_requests_total")
    assert series == {
        (("method", "GET"), ("route", app.item_route), ("status", "200")): count,
        (("method", "GET"), ("route", "unmatched"), ("status", "404")): count,
    }
    assert len(samples(app, "backendkit_http_request_duration_seconds_count")) == 2


def test_the_metrics_route_can_require_a_bearer_token() -> None:
    """With a token, a scrape without it is a 401 envelope; with it, the exposition."""
    bk = bk_flask
    registry = CollectorRegistry()
    app = Flask("metrics_token")
    bk.BackendKit(app, kit=_kit(registry))
    bk.add_metrics_route(app, token="s3cret-scrape-token")
    client = app.test_client()
    refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "UNAUTHENTICATED"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape-token"})
    assert ok.status_code == 200
    assert b"backendkit_http_requests_in_progress" in ok.get_data()
    assert ok.headers["Content-Type"].startswith("text/plain")
