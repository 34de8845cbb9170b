"""A client span for each SQL statement an engine runs (SQLAlchemy cursor events).

``before_cursor_execute`` opens the span and ``after_cursor_execute`` or ``handle_error``
ends it. The span carries the statement as SQLAlchemy sends it, parameters as their
placeholders (``?``, ``%(email)s``, ``$1``): parameter values are never recorded, nor an
error's message (a database quotes the offending value in it). A span is opened only
inside a recording span, and never for an engine the official SQLAlchemy instrumentation
traces.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event

from backendkit.tracing._official import engine_traced_officially

__all__ = ["SqlStatements", "operation_name"]

_SPAN = "_backendkit_span"  # where an execution context holds its span
_MAX_OPERATION = 16


def operation_name(statement: str) -> str:
    """The statement's first keyword, upper case (``SELECT``), as the span's name.

    Example:
        >>> operation_name("  select id from users where id = ?"), operation_name("(")
        ('SELECT', 'SQL')
    """
    words = statement.split(None, 1)
    first = words[0] if words else ""
    if not first.isalpha() or len(first) > _MAX_OPERATION:
        return "SQL"
    return first.upper()


class SqlStatements:
    """The event listeners that trace one engine's statements.

    Args:
        tracer: where spans are made.
        engine: a SQLAlchemy ``Engine`` or ``AsyncEngine`` (its ``sync_engine`` is listened to).
    """

    __slots__ = ("_attributes", "_engine", "_tracer")

    def __init__(self, tracer: trace.Tracer, engine: Any) -> None:
        self._tracer = tracer
        self._engine = getattr(engine, "sync_engine", engine)
        url = self._engine.url
        system = self._engine.dialect.name
        attributes: dict[str, Any] = {"db.system": system, "db.system.name": system}
        if url.database:
            attributes["db.namespace"] = url.database
        if url.host:
            attributes["server.address"] = url.host
        if url.port:
            attributes["server.port"] = url.port
        self._attributes = attributes

    def listen(self) -> None:
        """Start tracing the engine's statements (once however often it is called:
        SQLAlchemy knows a bound method it already holds)."""
        engine = self._engine
        for name, listener in (
            ("before_cursor_execute", self._before),
            ("after_cursor_execute", self._after),
            ("handle_error", self._error),
        ):
            if not event.contains(engine, name, listener):
                event.listen(engine, name, listener)

    def _before(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if context is None or not trace.get_current_span().is_recording():
            return
        if engine_traced_officially(self._engine):
            return
        setattr(
            context,
            _SPAN,
            self._tracer.start_span(
                operation_name(statement),
                kind=SpanKind.CLIENT,
                attributes={
                    **self._attributes,
                    "db.statement": statement,
                    "db.query.text": statement,
                    "db.operation.name": operation_name(statement),
                },
            ),
        )

    def _after(
        self,
        _conn: Any,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        span = _take(context)
        if span is not None:
            span.end()

    def _error(self, exception_context: Any) -> None:
        span = _take(exception_context.execution_context)
        if span is not None:
            error = exception_context.original_exception
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR))
            span.end()


def _take(context: Any) -> trace.Span | None:
    span: trace.Span | None = getattr(context, _SPAN, None)
    if span is not None:
        setattr(context, _SPAN, None)
    return span
