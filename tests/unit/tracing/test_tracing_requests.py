"""The server span through the pipeline alone (no framework): another instrumentation's
server span kept as the request's, metrics and tracing told together, a dropped request."""

from __future__ import annotations

from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry
from tests._tracing import Spans, hex_trace_id

from backendkit.metrics import Metrics
from backendkit.settings import Settings
from backendkit.testing import capture_logs
from backendkit.tracing import Tracing
from backendkit.web import Pipeline, WebKit
from backendkit.web._observers import Observers

_SETTINGS = Settings(env="test", secret_key="k" * 32)


def _pipeline(spans: Spans, **extra: object) -> Pipeline:
    return Pipeline(WebKit(settings=_SETTINGS, tracing=Tracing(spans.provider), **extra))  # type: ignore[arg-type]


def test_a_request_without_a_header_reader_is_a_root_span() -> None:
    """An adapter that passes no ``headers`` still gets its server span (no parent)."""
    spans = Spans()
    cycle = _pipeline(spans).start(method="GET", path="/api/x", request_id=None)
    cycle.route = "/api/x"
    cycle.finish(200)
    (server,) = spans.servers()
    assert server.name == "GET /api/x"
    assert server.parent is None


def test_another_instrumentations_server_span_is_the_requests() -> None:
    """Under a recording server span (FastAPI's own, OpenTelemetry's middleware) ours is
    not started: the request id goes on that span and the access line names its trace."""
    spans = Spans()
    pipeline = _pipeline(spans)
    tracer = Tracing(spans.provider).tracer
    with tracer.start_as_current_span("theirs", kind=SpanKind.SERVER) as theirs:
        cycle = pipeline.start(method="GET", path="/api/x", request_id="req-1")
        cycle.route = "/api/x"
    theirs_id = format(theirs.get_span_context().trace_id, "032x")
    with capture_logs() as logs:
        cycle.finish(200)  # after their span ended, as when the response was sent
    (server,) = spans.servers()
    assert server.name == "theirs"
    assert dict(server.attributes or {})["backendkit.request_id"] == "req-1"
    (completed,) = [entry for entry in logs if entry["event"] == "request_completed"]
    assert completed["trace_id"] == theirs_id == hex_trace_id(server)


def test_under_an_internal_span_ours_is_its_child() -> None:
    """The twin: a non-server current span (a job of the app's) is our span's parent."""
    spans = Spans()
    pipeline = _pipeline(spans)
    with Tracing(spans.provider).tracer.start_as_current_span("job") as job:
        cycle = pipeline.start(method="GET", path="/api/x", request_id=None)
        cycle.finish(200)
    (server,) = spans.servers()
    assert server.parent is not None
    assert server.parent.span_id == job.get_span_context().span_id


def test_metrics_and_tracing_are_both_told() -> None:
    """With both, the request is counted and traced; a dropped one is neither."""
    spans, registry = Spans(), CollectorRegistry()
    pipeline = _pipeline(spans, metrics=Metrics(registry))
    cycle = pipeline.start(method="GET", path="/api/x", request_id=None)
    assert isinstance(cycle.observer, Observers)
    cycle.route = "/api/x"
    cycle.finish(200)
    dropped = pipeline.start(method="GET", path="/health", request_id=None)
    dropped.unobserve()
    dropped.finish(200)
    assert [span.name for span in spans.servers()] == ["GET /api/x"]
    count = registry.get_sample_value(
        "backendkit_http_requests_total", {"method": "GET", "route": "/api/x", "status": "200"}
    )
    assert count == 1
    assert registry.get_sample_value("backendkit_http_requests_in_progress") == 0


def test_observers_attach_each_one_to_the_kit(redis_url: str) -> None:
    """``Observers.attach`` lets each observer watch the kit: metrics and tracing both hook
    the Redis connector (its failures counted, its clients traced)."""
    spans, registry = Spans(), CollectorRegistry()
    kit = WebKit.from_settings(Settings(env="test", secret_key="k" * 32, redis_url=redis_url))
    try:
        assert kit.redis is not None
        assert kit.redis.on_client is None
        assert kit.redis.on_failure is None
        Observers((Metrics(registry), Tracing(spans.provider))).attach(kit)
        assert kit.redis.on_client is not None
        assert kit.redis.on_failure is not None
    finally:
        kit.close()
