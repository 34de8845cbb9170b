"""Request and component metrics for a FastAPI service, served at ``/metrics``."""

from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from backendkit.adapters.fastapi import RateLimit, add_health_route, add_metrics_route, install
from backendkit.metrics import Metrics
from backendkit.settings import Settings
from backendkit.web import WebKit


def create_app(settings: Settings | None = None, registry: CollectorRegistry | None = None) -> Any:
    # Metrics() alone uses prometheus-client's global registry; tests pass their own.
    kit = WebKit.from_settings(settings, metrics=Metrics(registry))
    app = FastAPI()
    install(app, kit)

    @app.get("/api/items/{item_id}", dependencies=[RateLimit("100/minute", name="items")])
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    add_health_route(app)  # probes are not counted
    add_metrics_route(app)  # nor are scrapes; add token="..." to require a bearer token
    return app
