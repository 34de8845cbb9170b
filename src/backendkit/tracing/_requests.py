"""The server span of one request: started with the cycle, named when it ends.

The span starts as the pipeline starts the request, as the child of an incoming W3C
``traceparent`` (through the global propagator, so ``OTEL_PROPAGATORS`` is honoured) or
of the span current when the request began; it is the current span while the request
runs, so Redis, SQL and password spans and log lines find it. When the request ends it
is named by the route template the adapter matched (``GET /api/v1/users/{user_id}``,
never the raw path; an unmatched request is named by its method alone, as OpenTelemetry's
HTTP conventions say), gets its status, and ends; the previous context is restored.
A request another instrumentation already traces as a server span keeps that span alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode

from backendkit.logging import bind_request_context
from backendkit.web._methods import OTHER_METHOD
from backendkit.web._methods import fold_method as span_method

if TYPE_CHECKING:
    from backendkit.web import HeaderReader, RequestCycle

__all__ = ["OTHER_METHOD", "ServerSpans", "span_method"]


class _HeaderGetter(Getter["HeaderReader"]):
    """Reads a propagation header through the adapter's ``HeaderReader``."""

    def get(self, carrier: HeaderReader, key: str) -> list[str] | None:
        value = carrier(key)
        return None if value is None else [value]

    def keys(self, carrier: HeaderReader) -> list[str]:
        # Only propagators that enumerate every header (none of the W3C ones) ask.
        return []


_GETTER = _HeaderGetter()


class _RequestSpan:
    """What one request's tracing holds: its span and the context to restore (``None``:
    the span is another instrumentation's, which ends it)."""

    __slots__ = ("previous", "span")

    def __init__(self, span: trace.Span, previous: otel_context.Context | None) -> None:
        self.span, self.previous = span, previous


class ServerSpans:
    """Starts and ends the server span of each request (``Tracing``'s request half).

    Args:
        tracer: where spans are made.
    """

    __slots__ = ("_tracer",)

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start(self, cycle: RequestCycle) -> None:
        """Start ``cycle``'s span, as the current span, under the incoming trace if any.

        When another instrumentation already serves this request with a recording server
        span (FastAPI's own telemetry, OpenTelemetry's ASGI, WSGI, Flask or Django
        middleware), that span is the request's: it gets the request id and ours is not
        started, so one request is never two server spans.
        """
        current = trace.get_current_span()
        if current.is_recording() and getattr(current, "kind", None) is SpanKind.SERVER:
            current.set_attribute("backendkit.request_id", cycle.request_id)
            cycle.trace = _RequestSpan(current, None)
            return
        headers = cycle.headers
        parent = extract(headers, getter=_GETTER) if headers is not None else None
        method = span_method(cycle.method)
        attributes = {
            "http.request.method": method,
            "url.path": cycle.path,
            "backendkit.request_id": cycle.request_id,
        }
        if method == OTHER_METHOD:
            attributes["http.request.method_original"] = cycle.method
        span = self._tracer.start_span(
            "HTTP" if method == OTHER_METHOD else method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
        )
        previous = otel_context.get_current()
        otel_context.attach(trace.set_span_in_context(span, parent))
        cycle.trace = _RequestSpan(span, previous)

    def finish(self, cycle: RequestCycle) -> None:
        """Name, complete and end ``cycle``'s span; restore the context it replaced.

        The span's ids are bound to the request's log context, so the access-log line,
        written after the span ends, still names its trace.
        """
        state: _RequestSpan | None = cycle.trace
        if state is None:
            return
        cycle.trace = None
        span = state.span
        if state.previous is None:  # another's span, maybe ended already: its ids only
            _bind_ids(span)
            return
        if span.is_recording():
            status = 500 if cycle.status is None else cycle.status
            route = cycle.route
            attributes: dict[str, str | int] = {"http.response.status_code": status}
            if route is not None:
                attributes["http.route"] = route
                method = span_method(cycle.method)
                span.update_name(f"{'HTTP' if method == OTHER_METHOD else method} {route}")
            code = cycle.error_code
            if code is not None:
                attributes["backendkit.error.code"] = code
            if status >= 500:
                # A server's 5xx is its error; a 4xx is the client's (the HTTP conventions).
                attributes["error.type"] = code or str(status)
                span.set_status(Status(StatusCode.ERROR))
            span.set_attributes(attributes)
            _bind_ids(span)
        span.end()
        # Set, not reset with a token: the end may run in a copy of the start's context
        # (a streamed body finished in a worker thread), where a token is refused.
        otel_context.attach(state.previous)

    def drop(self, cycle: RequestCycle) -> None:
        """Leave ``cycle`` untraced (health and metrics routes): its span is never ended,
        so never exported, and what the request does next opens no child span."""
        state: _RequestSpan | None = cycle.trace
        cycle.trace = None
        if state is not None and state.previous is not None:
            otel_context.attach(state.previous)


def _bind_ids(span: trace.Span) -> None:
    """The span's ids in the request's log context: the access line, written after the
    span has ended, names it too."""
    ids = span.get_span_context()
    bind_request_context(trace_id=format(ids.trace_id, "032x"), span_id=format(ids.span_id, "016x"))
