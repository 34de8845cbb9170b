"""The trace and span ids of the current OpenTelemetry span on each log line.

Imported only when the ``otel`` extra (opentelemetry-api) is installed: ``configure_logging``
and ``capture_logs`` then add [`add_trace_context`][backendkit.logging._trace.add_trace_context]
to their chains, so a log line names the trace it belongs to and a trace's spans lead
back to their lines. Without the extra the processor is not in the chain at all.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import get_current_span

__all__ = ["add_trace_context"]


def add_trace_context(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: ``trace_id`` (32 hex digits) and ``span_id`` (16), as trace
    backends print them, while a span is recording; explicit event keys win.

    Outside a recording span (no tracing, a trace sampled out) the event is unchanged.
    """
    span = get_current_span()
    if span.is_recording():
        context = span.get_span_context()
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict
