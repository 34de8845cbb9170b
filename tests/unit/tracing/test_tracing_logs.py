"""Trace and span ids on log lines: inside a recording span only, explicit keys winning,
and nothing in the chain (nor any import) without opentelemetry."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import types

import pytest
from opentelemetry import trace
from tests._tracing import Spans

from backendkit.logging import configure_logging, get_logger
from backendkit.logging._trace import otel_installed
from backendkit.testing import capture_logs
from backendkit.tracing import Tracing

_log = get_logger("tests.tracing.logs")


def test_a_line_inside_a_span_names_the_span_and_its_trace() -> None:
    """``trace_id`` and ``span_id`` are the current span's, in hex as backends show them."""
    spans = Spans()
    tracer = Tracing(spans.provider).tracer
    with capture_logs() as logs, tracer.start_as_current_span("job") as span:
        _log.info("inside")
    ids = span.get_span_context()
    assert logs[0]["trace_id"] == format(ids.trace_id, "032x")
    assert logs[0]["span_id"] == format(ids.span_id, "016x")


def test_a_line_outside_any_span_has_no_ids() -> None:
    """The twin: no span, no ids; nor inside a span nobody records (sampled out)."""
    with capture_logs() as logs:
        _log.info("outside")
        with trace.NoOpTracer().start_as_current_span("unrecorded"):
            _log.info("unrecorded")
    assert all("trace_id" not in entry and "span_id" not in entry for entry in logs)


def test_explicit_keys_win() -> None:
    """An event's own ``trace_id`` is kept."""
    tracer = Tracing(Spans().provider).tracer
    with capture_logs() as logs, tracer.start_as_current_span("job"):
        _log.info("mine", trace_id="given")
    assert logs[0]["trace_id"] == "given"
    assert "span_id" in logs[0]


def test_configured_json_lines_carry_the_ids(restore_logging: None) -> None:
    """The production chain (``configure_logging``) adds them as capture does."""
    out = io.StringIO()
    configure_logging(fmt="json", stream=out)
    tracer = Tracing(Spans().provider).tracer
    with tracer.start_as_current_span("job") as span:
        _log.info("inside")
    line = json.loads(out.getvalue().splitlines()[-1])
    assert line["trace_id"] == format(span.get_span_context().trace_id, "032x")


_BLOCKED = "import sys\nsys.modules['opentelemetry'] = None\n"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_without_opentelemetry_logging_has_no_trace_step() -> None:
    """With opentelemetry absent, the chain has no trace processor and logging works."""
    code = _BLOCKED + (
        "from backendkit.logging._pipeline import context_processors\n"
        "from backendkit.logging import configure_logging, get_logger\n"
        "configure_logging(fmt='json')\n"
        "get_logger('x').info('fine')\n"
        "print(sorted(getattr(p, '__name__', '') for p in context_processors()))\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert "add_trace_context" not in result.stdout
    assert "merge_request_context" in result.stdout


def test_without_opentelemetry_the_tracing_package_names_its_extra() -> None:
    """Importing ``backendkit.tracing`` without the extra says what to install."""
    result = _run(_BLOCKED + "import backendkit.tracing\n")
    assert result.returncode != 0
    assert "MissingDependencyError" in result.stderr
    assert "backendkit[otel]" in result.stderr


def test_a_stand_in_without_a_spec_counts_as_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A module placed under the name without a spec is not the API: no trace step."""
    monkeypatch.setitem(sys.modules, "opentelemetry", types.ModuleType("opentelemetry"))
    assert not otel_installed()
    monkeypatch.undo()
    assert otel_installed()  # the twin: the real package is
