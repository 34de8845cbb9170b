"""Every metric the Grafana dashboard and the metrics guide name is one backendkit emits,
and every metric backendkit emits is on the guide."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy
from prometheus_client import CollectorRegistry
from sqlalchemy.pool import QueuePool

from backendkit.cache import Cache
from backendkit.metrics import Metrics
from backendkit.redis import RedisConnector

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs/assets/grafana/backendkit.json"
GUIDE = ROOT / "docs/guide/metrics.md"
_NAME = re.compile(r"\bbackendkit_[a-z_]+\b")
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


@pytest.fixture(scope="module")
def emitted() -> set[str]:
    """The sample names of a registry with every instrument and every watched component."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    cache = Cache(name="c")
    connector = RedisConnector("redis://127.0.0.1:1/0", name="r")  # never connects here
    engine = sqlalchemy.create_engine("sqlite://", poolclass=QueuePool)
    metrics.watch_cache(cache)
    metrics.watch_redis(connector)
    metrics.watch_engine(engine)
    names = set()
    for family in registry.collect():
        for suffix in _SUFFIXES[family.type]:
            names.add(family.name + suffix)
    engine.dispose()
    connector.close()
    return names


def _queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_queries_only_emitted_metrics(emitted: set[str]) -> None:
    """Each PromQL query of the dashboard names metrics that exist, by their full names."""
    queries = _queries()
    assert len(queries) >= 16
    named = {name for query in queries for name in _NAME.findall(query)}
    assert named
    assert named - emitted == set()


def test_the_dashboard_covers_every_request_metric(emitted: set[str]) -> None:
    """The request metrics each have a panel."""
    named = {name for query in _queries() for name in _NAME.findall(query)}
    request_metrics = {name for name in emitted if name.startswith("backendkit_http_")}
    assert (
        request_metrics
        - {
            "backendkit_http_request_duration_seconds_count",
            "backendkit_http_request_duration_seconds_sum",
        }
        <= named
    )


def test_the_guide_names_only_emitted_metrics_and_all_of_them(emitted: set[str]) -> None:
    """The guide's tables and alert rules name real metrics; its tables list every family."""
    text = GUIDE.read_text()
    named = set(_NAME.findall(text))
    # The cache row abbreviates its siblings as `_misses_total`, `_loads_total`, ...
    for short in re.findall(r"`(_[a-z_]+_total)`", text):
        named.add("backendkit_cache" + short)
    for short in ("_overflow", "_size"):
        named.add("backendkit_sql_pool" + short)
    base = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named}
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in emitted}
    assert {name for name in named if name not in emitted and name not in families} == set()
    assert families - base == set()


def test_a_misspelt_name_would_be_caught(emitted: set[str]) -> None:
    """The valid twin: a name backendkit does not emit is not among the emitted ones."""
    assert "backendkit_http_request_total" not in emitted
    assert "backendkit_http_requests_total" in emitted
