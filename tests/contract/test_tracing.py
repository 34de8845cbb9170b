"""The example apps export traces when asked (``OTEL_TRACES_EXPORTER=console``), under
their real servers: the server span named by the route template continues the caller's
``traceparent``, has the bcrypt and SQL work under it, and the request's log lines carry
its trace id."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.contract._servers import APPS, RunningServer, example_server

_TRACE_ID = secrets.token_hex(16)
_PARENT_ID = secrets.token_hex(8)
_SPAN_START = '{\n    "name": '


@pytest.fixture(params=APPS)
def traced(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    extra = {
        "BACKENDKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_SERVICE_NAME": f"example-{request.param}",
        "OTEL_BSP_SCHEDULE_DELAY": "50",  # milliseconds: spans are printed soon after
    }
    with example_server(
        request.param, "traced", workdir=tmp_path, workers=1, extra_env=extra
    ) as running:
        yield running


def exported_spans(text: str) -> list[dict[str, Any]]:
    """The spans the console exporter printed (indented JSON objects) in ``text``."""
    decoder, spans, position = json.JSONDecoder(), [], text.find(_SPAN_START)
    while position >= 0:
        span, end = decoder.raw_decode(text, position)
        spans.append(span)
        position = text.find(_SPAN_START, end)
    return spans


def descendants(spans: list[dict[str, Any]], span_id: str) -> list[dict[str, Any]]:
    """The spans under ``span_id``, at any depth."""
    found: list[dict[str, Any]] = []
    parents = {span_id}
    while True:
        level = [span for span in spans if span["parent_id"] in parents and span not in found]
        if not level:
            return found
        found.extend(level)
        parents = {span["context"]["span_id"] for span in level}


def log_lines(text: str) -> list[dict[str, Any]]:
    """The JSON log lines (one object per line) in ``text``."""
    lines = []
    for line in text.splitlines():
        if line.startswith('{"'):
            lines.append(json.loads(line))
    return lines


def _register_spans(server: RunningServer) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        spans = [
            span
            for span in exported_spans(server.log_text())
            if span["context"]["trace_id"] == "0x" + _TRACE_ID
        ]
        if any(span["kind"] == "SpanKind.SERVER" for span in spans):
            return spans
        if time.monotonic() > deadline:
            raise AssertionError(f"no server span exported:\n{server.log_text()[-3000:]}")
        time.sleep(0.1)


def test_a_request_is_exported_as_a_span_tree_joined_to_its_logs(traced: RunningServer) -> None:
    """Register: the server span under the caller's span, bcrypt (and SQL) under it, and
    the access line carrying the trace id."""
    email = f"traced-{secrets.token_hex(4)}@example.com"
    response = httpx.post(
        traced.url + "/api/v1/auth/register",
        json={"email": email, "password": "pw-" + secrets.token_urlsafe(12), "name": "Traced"},
        headers={"traceparent": f"00-{_TRACE_ID}-{_PARENT_ID}-01"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    spans = _register_spans(traced)
    servers = [span for span in spans if span["kind"] == "SpanKind.SERVER"]
    assert len(servers) == 1, servers
    (server,) = servers
    assert server["name"] == "POST /api/v1/auth/register"
    assert server["parent_id"] == "0x" + _PARENT_ID
    assert server["attributes"]["http.route"] == "/api/v1/auth/register"
    assert server["attributes"]["http.response.status_code"] == 201
    assert server["attributes"]["backendkit.request_id"] == response.headers["X-Request-ID"]
    assert server["resource"]["attributes"]["service.name"] == f"example-{traced.app}"
    # Under it, directly or (FastAPI's own endpoint spans between) further down.
    below = {span["name"] for span in descendants(spans, server["context"]["span_id"])}
    assert "bcrypt.hash" in below
    if traced.app != "django":  # Django's ORM is not SQLAlchemy: its statements are not ours
        assert "INSERT" in below
    completed = [
        line
        for line in log_lines(traced.log_text())
        if line.get("event") == "request_completed"
        and line.get("request_id") == response.headers["X-Request-ID"]
    ]
    assert [line.get("trace_id") for line in completed] == [_TRACE_ID]


def test_without_an_exporter_the_examples_do_not_trace() -> None:
    """Unset or ``none``: no ``Tracing``, so the kit is built without one."""
    from examples._shared.tracing import configure_tracing

    assert configure_tracing({}) is None
    assert configure_tracing({"OTEL_TRACES_EXPORTER": "none"}) is None


def test_an_unknown_exporter_stops_the_start() -> None:
    """The twin: a name the examples do not know is refused, naming the variable."""
    from examples._shared.tracing import configure_tracing

    from backendkit.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="OTEL_TRACES_EXPORTER='jaeger'"):
        configure_tracing({"OTEL_TRACES_EXPORTER": "jaeger"})
