"""The metrics guide's samples run and give the numbers the guide describes."""

from __future__ import annotations

import warnings

from docs.snippets import metrics_components, metrics_fastapi, metrics_gunicorn_conf
from prometheus_client import CollectorRegistry

from backendkit.metrics import child_exit, on_starting
from backendkit.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient


def test_the_fastapi_sample_counts_requests_by_route_template() -> None:
    """Three items and a miss: two series, nothing for the probe or the scrape."""
    registry = CollectorRegistry()
    client = TestClient(metrics_fastapi.create_app(Settings(env="test"), registry))
    for item in (1, 2, 3):
        assert client.get(f"/api/items/{item}").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/health").status_code == 200
    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    text = scrape.text
    assert (
        'backendkit_http_requests_total{method="GET",route="/api/items/{item_id}",status="200"} 3.0'
        in text
    )
    assert 'backendkit_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'route="/health"' not in text
    assert 'route="/metrics"' not in text
    allowed = {"rule": "items", "decision": "allowed", "source": "storage"}
    assert registry.get_sample_value("backendkit_ratelimit_decisions_total", allowed) == 3


def test_the_components_sample_exposes_its_components() -> None:
    """The limiter's decision, the cache and the pool are in the sample's registry."""
    registry = metrics_components.registry
    allowed = {"rule": "exports", "decision": "allowed", "source": "storage"}
    assert registry.get_sample_value("backendkit_ratelimit_decisions_total", allowed) == 1
    assert registry.get_sample_value("backendkit_cache_hits_total", {"cache": "reports"}) == 0
    assert registry.get_sample_value("backendkit_sql_pool_size", {"engine": "main"}) is not None


def test_the_gunicorn_config_names_the_two_hooks() -> None:
    """The config gunicorn reads exposes exactly the documented hooks."""
    assert metrics_gunicorn_conf.on_starting is on_starting
    assert metrics_gunicorn_conf.child_exit is child_exit
