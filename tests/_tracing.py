"""An in-memory OpenTelemetry pipeline for tracing tests: a provider of one's own (the
global one can be set once per process), its finished spans, and reading their tree."""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from types import ModuleType

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

#: Set by the Makefile for the main environment, where requirements-instrumentations.txt
#: installs the official instrumentations: there a missing one fails instead of skipping.
REQUIRE_INSTRUMENTATIONS = "BACKENDKIT_REQUIRE_INSTRUMENTATIONS"


def official_instrumentation(module: str) -> ModuleType:
    """The official instrumentation ``module`` (``opentelemetry.instrumentation.redis``...).

    Skips the test where it is not installed (the lowest-versions and other-Python venvs,
    which cannot resolve it with their pins), unless ``BACKENDKIT_REQUIRE_INSTRUMENTATIONS``
    is ``1``, as in the main environment: there its absence is an error, not a skip.
    """
    if os.environ.get(REQUIRE_INSTRUMENTATIONS) == "1":
        return importlib.import_module(module)
    return pytest.importorskip(module)


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
