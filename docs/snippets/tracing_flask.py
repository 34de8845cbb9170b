"""A Flask service traced with OpenTelemetry: requests, Redis, SQL and bcrypt."""

from typing import Any

import sqlalchemy as sa
from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from backendkit.adapters.flask import BackendKit
from backendkit.auth import PasswordHasher
from backendkit.settings import Settings
from backendkit.tracing import Tracing
from backendkit.web import WebKit


def configure_tracing() -> None:
    # The application's part: an SDK provider and an exporter (console here; OTLP to a
    # collector in production). Once per process, before the first request.
    provider = TracerProvider()  # reads OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, ...
    provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def create_app(
    settings: Settings | None = None,
    engine: sa.Engine | None = None,
    hasher: PasswordHasher | None = None,
    tracing: Tracing | None = None,
) -> Any:
    tracing = tracing or Tracing()  # spans go to the global provider set above
    kit = WebKit.from_settings(settings, tracing=tracing)  # requests and Redis commands
    engine = engine or sa.create_engine("sqlite://")
    tracing.watch_engine(engine)  # a span per SQL statement, never its parameter values
    if hasher is not None:
        tracing.watch_passwords(hasher)  # a span per bcrypt hash and verification
    app = Flask(__name__)
    BackendKit(app, kit=kit)

    @app.get("/api/items/<int:item_id>")
    def item(item_id: int) -> dict[str, int]:
        with engine.connect() as connection:
            found = connection.execute(sa.text("SELECT :id"), {"id": item_id}).scalar_one()
        return {"id": found}

    return app
