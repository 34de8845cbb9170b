"""The trace and span ids of the current OpenTelemetry span on each log line.

With the ``otel`` extra installed, ``configure_logging`` and ``capture_logs`` put
[`add_trace_context`][backendkit.logging._trace.add_trace_context] in their chains, and
importing ``backendkit.tracing`` gives it the reader of the current span's ids: from
then on a line logged inside a recording span names its trace, and the trace leads back
to its lines. Logging imports no OpenTelemetry module itself (importing its API costs a
start-up a tenth of a second); until tracing is imported the processor only checks one
attribute, and without the extra it is not in the chain at all.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

__all__ = ["TraceIdReader", "add_trace_context", "otel_installed", "use_trace_ids"]

#: Returns ``(trace_id, span_id)`` as hex while a span is recording, else ``None``.
TraceIdReader = Callable[[], "tuple[str, str] | None"]


class _Reader:
    __slots__ = ("read",)

    def __init__(self) -> None:
        self.read: TraceIdReader | None = None


_reader = _Reader()


def use_trace_ids(read: TraceIdReader | None) -> None:
    """Make ``add_trace_context`` ask ``read`` for the ids (``backendkit.tracing`` does)."""
    _reader.read = read


def otel_installed() -> bool:
    """Whether opentelemetry-api can be imported (looked up, not imported)."""
    # The top-level name only: finding a submodule would import the package.
    try:
        return importlib.util.find_spec("opentelemetry") is not None
    except ValueError:  # a module without a spec stands in for it
        return False


def add_trace_context(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor: ``trace_id`` (32 hex digits) and ``span_id`` (16), as trace
    backends print them, while a span is recording; explicit event keys win.

    Outside a recording span (no tracing, a trace sampled out) the event is unchanged.
    """
    read = _reader.read
    if read is not None:
        ids = read()
        if ids is not None:
            event_dict.setdefault("trace_id", ids[0])
            event_dict.setdefault("span_id", ids[1])
    return event_dict
