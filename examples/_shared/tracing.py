"""Traces for the example services, when the environment asks for them.

``OTEL_TRACES_EXPORTER=console`` prints each finished span as JSON on standard output;
``OTEL_TRACES_EXPORTER=otlp`` sends them to an OpenTelemetry collector
(``OTEL_EXPORTER_OTLP_ENDPOINT``, default ``http://localhost:4318``; it needs
``pip install opentelemetry-exporter-otlp-proto-http``). Unset or ``none``: no tracing,
and nothing of OpenTelemetry is imported. The SDK reads its other variables itself:
``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER`` and
``OTEL_TRACES_SAMPLER_ARG``, ``OTEL_BSP_*`` for the batching. This is the application's
part: backendkit only needs the API and sends its spans to whatever provider is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from backendkit.errors import ConfigurationError

if TYPE_CHECKING:
    from backendkit.tracing import Tracing

__all__ = ["configure_tracing"]

_configured: dict[str, Tracing] = {}  # one provider per process: the SDK sets it once


def configure_tracing(environ: Mapping[str, str] | None = None) -> Tracing | None:
    """The examples' ``Tracing``, with the SDK's provider set up on first call, or ``None``
    when ``OTEL_TRACES_EXPORTER`` is unset or ``none``.

    Raises:
        ConfigurationError: an exporter the examples do not know, or one whose package is
            missing (the message says what to install).
    """
    source = os.environ if environ is None else environ
    name = source.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if name in ("", "none"):
        return None
    if name not in _configured:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from backendkit.tracing import Tracing

        provider = TracerProvider()  # its resource reads OTEL_SERVICE_NAME and the like
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))
        trace.set_tracer_provider(provider)
        _configured[name] = Tracing()
    return _configured[name]


def _exporter(name: str) -> Any:
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigurationError(
                "OTEL_TRACES_EXPORTER=otlp needs pip install opentelemetry-exporter-otlp-proto-http"
            ) from None
        return OTLPSpanExporter()
    raise ConfigurationError(
        f"OTEL_TRACES_EXPORTER={name!r}: the examples export to 'console', 'otlp' or 'none'"
    )
