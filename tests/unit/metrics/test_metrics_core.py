"""The ``Metrics`` object, its labels and the exposition, without a framework."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from backendkit.errors import ConfigurationError, NotFound, Unauthenticated
from backendkit.metrics import DEFAULT_BUCKETS, Metrics, MetricsEndpoint, exposition_registry
from backendkit.metrics._labels import method_label, route_label, status_label
from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit

SETTINGS = Settings(env="test", secret_key="k" * 32)


def _count(registry: CollectorRegistry, **labels: str) -> float | None:
    return registry.get_sample_value("backendkit_http_requests_total", labels)


@pytest.mark.parametrize(
    ("method", "label"),
    [
        ("GET", "GET"),
        ("PATCH", "PATCH"),
        ("OPTIONS", "OPTIONS"),
        ("PURGE", "_OTHER"),
        ("get", "_OTHER"),
        ("X" * 500, "_OTHER"),
    ],
)
def test_methods_outside_the_standard_set_are_folded(method: str, label: str) -> None:
    """The client picks the method: anything not standard is one label value."""
    assert method_label(method) == label


def test_routes_and_statuses_have_bounded_labels() -> None:
    """No route is one value; a missing status is the 500 the access log reports."""
    assert route_label(None) == "unmatched"
    assert route_label("/users/{id}") == "/users/{id}"
    assert status_label(None) == "500"
    assert status_label(204) == "204"
    assert status_label(999) == "999"


def test_metrics_of_one_registry_share_their_instruments() -> None:
    """Two kits on one registry: no duplicate-series error, one set of series."""
    registry = CollectorRegistry()
    first = WebKit.from_settings(SETTINGS, metrics=Metrics(registry))
    second = WebKit.from_settings(SETTINGS, metrics=Metrics(registry))
    for kit in (first, second):
        cycle = Pipeline(kit).start(method="GET", path="/api/x", request_id=None)
        cycle.route = "/api/x"
        cycle.finish(200)
    assert _count(registry, method="GET", route="/api/x", status="200") == 2
    first.close()
    second.close()


def test_kits_on_their_own_registries_keep_their_series_apart() -> None:
    """The valid twin: two registries count separately."""
    one, two = CollectorRegistry(), CollectorRegistry()
    cycle = Pipeline(WebKit.from_settings(SETTINGS, metrics=Metrics(one))).start(
        method="POST", path="/api/y", request_id=None
    )
    cycle.finish(201)
    assert _count(one, method="POST", route="unmatched", status="201") == 1
    assert _count(two, method="POST", route="unmatched", status="201") is None
    Metrics(two)
    assert _count(two, method="POST", route="unmatched", status="201") is None


def test_buckets_are_configurable_and_must_agree_within_a_registry() -> None:
    """Custom buckets show in the histogram; other buckets on the same registry are refused."""
    registry = CollectorRegistry()
    Metrics(registry, buckets=(0.1, 1.0))
    assert (
        registry.get_sample_value(
            "backendkit_http_request_duration_seconds_bucket",
            {"method": "GET", "route": "r", "le": "0.1"},
        )
        is None
    )  # no request yet
    with pytest.raises(ConfigurationError, match="buckets"):
        Metrics(registry)
    assert Metrics(registry, buckets=[0.1, 1]).registry is registry
    assert DEFAULT_BUCKETS[0] == 0.005
    assert DEFAULT_BUCKETS[-1] == 10.0
    assert "single process" in repr(Metrics(CollectorRegistry()))


def test_a_rendered_error_is_counted_by_its_code_and_the_request_once() -> None:
    """The pipeline records the catalogue code of what it renders; a drop counts nothing."""
    registry = CollectorRegistry()
    pipeline = Pipeline(WebKit.from_settings(SETTINGS, metrics=Metrics(registry)))
    cycle = pipeline.start(method="GET", path="/api/z", request_id=None)
    in_flight = "backendkit_http_requests_in_progress"
    assert registry.get_sample_value(in_flight) == 1
    pipeline.render(cycle, NotFound())
    cycle.finish(404)
    cycle.finish(404)  # idempotent
    errors = "backendkit_http_errors_total"
    assert registry.get_sample_value(errors, {"route": "unmatched", "code": "NOT_FOUND"}) == 1
    crashed = pipeline.start(method="GET", path="/api/z", request_id=None)
    pipeline.render(crashed, RuntimeError("boom"))
    crashed.finish()
    assert _count(registry, method="GET", route="unmatched", status="500") == 1
    assert registry.get_sample_value(errors, {"route": "unmatched", "code": "INTERNAL_ERROR"}) == 1
    dropped = pipeline.start(method="GET", path="/metrics", request_id=None)
    dropped.unobserve()
    dropped.finish(200)
    assert _count(registry, method="GET", route="unmatched", status="200") is None
    assert registry.get_sample_value(in_flight) == 0


def test_the_endpoint_renders_text_or_openmetrics() -> None:
    """The scraper's Accept header chooses the format."""
    metrics = Metrics(CollectorRegistry())
    endpoint = MetricsEndpoint(metrics)
    text = endpoint.answer(None)
    assert text.status == 200
    assert text.media_type.startswith("text/plain")
    assert b"backendkit_http_requests_in_progress 0.0" in text.body
    assert text.headers == {"Cache-Control": "no-store"}
    open_metrics = endpoint.answer(None, "application/openmetrics-text; version=1.0.0")
    assert open_metrics.media_type.startswith("application/openmetrics-text")
    assert open_metrics.body.endswith(b"# EOF\n")
    assert exposition_registry(metrics) is metrics.registry


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer wrong", "Basic s3cret", "bearer s3cre"]
)
def test_a_protected_endpoint_refuses_anything_but_its_token(authorization: str | None) -> None:
    """Missing, wrong, truncated or other-scheme credentials are UNAUTHENTICATED."""
    endpoint = MetricsEndpoint(Metrics(CollectorRegistry()), token="s3cret")
    with pytest.raises(Unauthenticated):
        endpoint.answer(authorization)


@pytest.mark.parametrize("authorization", ["Bearer s3cret", "bearer s3cret", "Bearer  s3cret "])
def test_a_protected_endpoint_answers_its_token(authorization: str) -> None:
    """The valid twin: the token, in any case of the scheme, gets the exposition."""
    endpoint = MetricsEndpoint(Metrics(CollectorRegistry()), token="s3cret")
    assert endpoint.answer(authorization).status == 200


def test_an_empty_token_is_a_configuration_error() -> None:
    """``token=""`` would protect nothing: refused when the route is built."""
    with pytest.raises(ConfigurationError):
        MetricsEndpoint(token="")


def test_the_in_flight_gauge_is_exact_at_rest_and_published_under_load(
    tmp_path: Path,
) -> None:
    """Multiprocess mode: requests in flight reach the gauge's file when the mirror
    publishes them, and the request that brings them back to zero writes it at once."""
    from backendkit.metrics._tally import RequestTally
    from backendkit.web import RequestCycle

    tally = RequestTally(DEFAULT_BUCKETS, str(tmp_path))
    assert tally._gauge is not None

    def written() -> float:
        [family] = tally._gauge.collect()  # type: ignore[union-attr]
        return float(family.samples[0].value)

    cycle = RequestCycle(method="GET", path="/x", request_id="r")
    tally.started()
    tally.started()
    assert written() == 0  # a request does not write it
    tally.publish()
    assert written() == 2
    tally.finished(cycle)
    assert written() == 2  # not at rest: the next publish writes it
    tally.dropped()
    assert written() == 0  # back to zero: at once
    tally.started()
    tally.finished(cycle)
    assert written() == 0


def test_made_up_methods_are_folded_and_never_kept() -> None:
    """A thousand distinct methods: one ``_OTHER`` series, and no cache entry for any."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    pipeline = Pipeline(WebKit.from_settings(SETTINGS, metrics=metrics))
    for index in range(1000):
        cycle = pipeline.start(method=f"M{index}", path="/api/x", request_id=None)
        cycle.finish(405)
    assert _count(registry, method="_OTHER", route="unmatched", status="405") == 1000
    assert len(metrics._shared.requests._keys) == 0
    get = pipeline.start(method="GET", path="/api/x", request_id=None)
    get.finish(200)
    assert len(metrics._shared.requests._keys) == 1  # the valid twin: a standard one is


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created") and s.name.startswith("backendkit_http_")
    }


def test_both_request_stores_expose_the_same_series(tmp_path: Path) -> None:
    """The single-process tally and the multiprocess one (its values in this process's
    files, read back by prometheus-client's MultiProcessCollector) give identical samples
    for the same requests: counts, cumulative buckets (le as prometheus-client writes
    them) and sums."""
    from prometheus_client.multiprocess import MultiProcessCollector

    from backendkit.metrics._tally import RequestTally
    from backendkit.testing import FakeClock
    from backendkit.web import RequestCycle

    clock = FakeClock()
    memory = RequestTally(DEFAULT_BUCKETS)
    files = RequestTally(DEFAULT_BUCKETS, str(tmp_path))
    memory_registry, files_registry = CollectorRegistry(), CollectorRegistry()
    memory_registry.register(memory)
    MultiProcessCollector(files_registry, path=str(tmp_path))  # type: ignore[no-untyped-call]
    mix = ((0.001, 200), (0.02, 200), (0.3, 404), (20.0, 200), (0.005, 200), (0.0, 201))
    for seconds, status in mix:
        cycles = {}
        for store in (memory, files):
            cycle = cycles[store] = RequestCycle(
                method="GET", path="/x", request_id="r", clock=clock
            )
            cycle.route, cycle.status = "/x", status
            store.started()
        clock.advance(seconds)
        for store, cycle in cycles.items():
            store.finished(cycle)
    in_memory, in_files = _samples(memory_registry), _samples(files_registry)
    # The files' gauge is a file only when prometheus-client was imported in
    # multiprocess mode, which this process was not.
    assert in_memory.pop(("backendkit_http_requests_in_progress", ())) == 0
    assert in_files == in_memory
    for store in (memory, files):
        store.started()
        store.started()
        store.dropped()
    in_memory = _samples(memory_registry)
    # The memory tally's gauge is exact; the files' is published by the mirror.
    assert in_memory[("backendkit_http_requests_in_progress", ())] == 1
    bucket = "backendkit_http_request_duration_seconds_bucket"
    labels = (("le", "0.005"), ("method", "GET"), ("route", "/x"))
    assert in_memory[(bucket, labels)] == 3  # 0.0, 0.001 and exactly 0.005 (le inclusive)
    inf = (("le", "+Inf"), ("method", "GET"), ("route", "/x"))
    assert in_memory[(bucket, inf)] == 6
    status = (("method", "GET"), ("route", "/x"), ("status", "200"))
    assert in_memory[("backendkit_http_requests_total", status)] == 4
