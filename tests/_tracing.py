"""An in-memory OpenTelemetry pipeline for tracing tests: a provider of one's own (the
global one can be set once per process), its finished spans, and reading their tree."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


class Spans:
    """A ``TracerProvider`` whose spans are kept in memory as they end."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def finished(self) -> Sequence[ReadableSpan]:
        """Every span ended so far, in the order they ended."""
        return self.exporter.get_finished_spans()

    def servers(self) -> list[ReadableSpan]:
        """The server spans (one per traced request)."""
        return [span for span in self.finished() if span.kind == SpanKind.SERVER]

    def children(self, parent: ReadableSpan) -> list[ReadableSpan]:
        """The spans whose parent is ``parent``."""
        span_id = parent.context.span_id
        return [
            span
            for span in self.finished()
            if span.parent is not None and span.parent.span_id == span_id
        ]

    def clear(self) -> None:
        """Forget the spans ended so far."""
        self.exporter.clear()


def hex_trace_id(span: ReadableSpan) -> str:
    """The span's trace id as log lines carry it."""
    return format(span.context.trace_id, "032x")
