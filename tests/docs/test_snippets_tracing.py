"""The tracing guide's sample runs and makes the spans the guide describes."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa
from docs.snippets import tracing_flask
from tests._tracing import Spans

from backendkit.settings import Settings
from backendkit.testing import TestingPasswordHasher
from backendkit.tracing import Tracing


def test_the_flask_sample_makes_a_server_span_with_its_statement() -> None:
    """One request: ``GET /api/items/<int:item_id>`` with the SELECT under it."""
    spans = Spans()
    tracing = Tracing(spans.provider)
    engine = sa.create_engine("sqlite://")
    hasher = TestingPasswordHasher(allow=True)
    app = tracing_flask.create_app(Settings(env="test"), engine, hasher, tracing)
    assert app.test_client().get("/api/items/7").get_json() == {"id": 7}
    (server,) = spans.servers()
    assert server.name == "GET /api/items/<int:item_id>"
    assert [span.name for span in spans.children(server)] == ["SELECT"]
    engine.dispose()


def test_configure_tracing_prints_spans_with_the_console_exporter() -> None:
    """In a process of its own (the global provider is set once): spans reach stdout."""
    code = (
        "from docs.snippets import tracing_flask\n"
        "from backendkit.settings import Settings\n"
        "from opentelemetry import trace\n"
        "tracing_flask.configure_tracing()\n"
        "app = tracing_flask.create_app(Settings(env='test'))\n"
        "assert app.test_client().get('/api/items/3').status_code == 200\n"
        "trace.get_tracer_provider().force_flush()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "GET /api/items/<int:item_id>"' in done.stdout
