"""The current span's ids for log lines (``backendkit.logging``'s trace processor)."""

from __future__ import annotations

from opentelemetry.trace import get_current_span

__all__ = ["current_trace_ids"]


def current_trace_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex while the current span is recording, else ``None``.

    Example:
        >>> current_trace_ids() is None  # outside any span
        True
    """
    span = get_current_span()
    if not span.is_recording():
        return None
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
