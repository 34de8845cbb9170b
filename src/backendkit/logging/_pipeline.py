"""The processors every event passes, and the output loggers structlog events are written by.

``configure_logging`` assembles these into two chains with the same steps in the same
order: one for structlog events (``Pipeline``, run as a single processor) and one for
standard library records (structlog's ``ProcessorFormatter``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, TextIO, TypeAlias, cast

import structlog
from pydantic_core import to_json
from structlog.typing import EventDict, WrappedLogger

from backendkit.logging._context import merge_request_context
from backendkit.logging._redact import redact_processor
from backendkit.logging._trace import add_trace_context, otel_installed

__all__ = [
    "MAX_CACHED_LOGGERS",
    "ChainStep",
    "NamedWriteLogger",
    "NamedWriteLoggerFactory",
    "Pipeline",
    "Processor",
    "UtcTimestamper",
    "add_logger_name",
    "context_processors",
    "renderer",
    "shared_processors",
    "trace_processors",
]

Processor: TypeAlias = Callable[[WrappedLogger, str, EventDict], EventDict]
"""A processor of your own for [`configure_logging`][backendkit.logging.configure_logging].

Called as ``processor(logger, method_name, event_dict)`` (structlog's convention) on every
event, structlog's and the standard library's alike; it returns the event dict, changed
or not, or raises ``structlog.DropEvent`` to drop the event. ``event_dict`` already
carries the request context, ``level``, ``timestamp`` and ``logger``; what the processor
returns is redacted, then rendered. ``method_name`` is the level's name in lower case
(``"info"``...); ``logger`` is the output logger (``None`` for standard library records):
read the logger's name from ``event_dict["logger"]``.
"""

#: A step of a chain: a processor, or a renderer (which returns the line, not a dict).
ChainStep: TypeAlias = structlog.typing.Processor

# Logger names come from code, not input; the bound only guards against a program that
# makes names from data.
MAX_CACHED_LOGGERS = 1024


def context_processors() -> list[ChainStep]:
    """Processors that add context to an event; shared by the pipeline and log capture.

    With the ``otel`` extra installed, the current span's ids come before the request
    context: a line logged inside a child span names that span, and the request's own
    ids (bound as the request ends) fill in after its span has ended.
    """
    return [structlog.contextvars.merge_contextvars, *trace_processors(), merge_request_context]


def trace_processors() -> list[ChainStep]:
    """``[add_trace_context]`` when opentelemetry-api is installed, else nothing (the
    extra not installed: nothing added, nothing paid)."""
    return [add_trace_context] if otel_installed() else []


class UtcTimestamper:
    """Processor: ``timestamp`` as ISO 8601 UTC with microseconds (``...T09:23:48.925209Z``).

    Same text as structlog's ``TimeStamper(fmt="iso", utc=True)`` but always with the
    microseconds (fixed width) and with the date part formatted once per second: building
    a ``datetime`` per event cost more than the rest of the timestamp.
    """

    __slots__ = ("_cached",)

    def __init__(self) -> None:
        self._cached: tuple[int, str] = (-1, "")

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        # Rounded to the microsecond as datetime.fromtimestamp does (a float holds today's
        # time in microseconds exactly).
        second, micros = divmod(round(time.time() * 1_000_000), 1_000_000)
        # One tuple, swapped whole: threads never see a second with another's prefix.
        cached = self._cached
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._cached = cached
        event_dict["timestamp"] = f"{cached[1]}.{micros:06d}Z"
        return event_dict


def shared_processors() -> list[ChainStep]:
    """Context, level and timestamp: the first steps of both chains."""
    # The stack-info renderer stays last: Pipeline runs it only when asked for.
    return [
        *context_processors(),
        structlog.stdlib.add_log_level,
        UtcTimestamper(),
        structlog.processors.StackInfoRenderer(),
    ]


def renderer(fmt: Literal["json", "console"]) -> list[ChainStep]:
    """The last steps of both chains: exceptions as text, then the line."""
    if fmt == "json":
        return [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ]
    # Plain tracebacks: rich's "show locals" would print secrets held in local variables.
    return [
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    ]


def _dumps(obj: Any, **_options: Any) -> str:
    # pydantic-core's encoder is several times faster than the stdlib's on small events;
    # anything it cannot encode is logged as its str() rather than failing the log call.
    return to_json(obj, fallback=str).decode()


def add_logger_name(logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    """Processor: the output logger's name as ``logger`` (unless the event has one)."""
    name = getattr(logger, "name", None)
    if name is not None:
        event_dict.setdefault("logger", name)
    return event_dict


class NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows the name it was asked for (the event's ``logger`` field)."""

    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class NamedWriteLoggerFactory:
    """structlog's logger factory: one ``NamedWriteLogger`` per name, all on one file."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        # One output logger per name: structlog asks for one on every event of a logger
        # that is not cached, and they hold nothing but the file and the name.
        self._loggers: dict[str | None, NamedWriteLogger] = {}

    def __call__(self, *args: Any) -> NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        logger = self._loggers.get(name)
        if logger is None:
            logger = NamedWriteLogger(self._file, name)
            if len(self._loggers) < MAX_CACHED_LOGGERS:
                self._loggers[name] = logger
        return logger


class Pipeline:
    """The structlog events' processor chain, run as one processor.

    The same steps in the same order as the standard library's chain (``shared``, the
    logger's name, the user's processors, redaction, ``renderer``), with the stack-info
    renderer run only when an event asks for it. One call for structlog instead of nine:
    every log line pays for each processor structlog calls.
    """

    __slots__ = ("_head", "_stack", "_tail")

    def __init__(
        self,
        shared: list[ChainStep],
        user: tuple[Processor, ...],
        renderer: list[ChainStep],
    ) -> None:
        *head, stack = shared  # shared_processors() ends with the stack-info renderer
        self._head = tuple(head)
        self._stack = stack
        # Redaction comes after the user's processors: what they add is masked too.
        self._tail: tuple[ChainStep, ...] = (*user, redact_processor, *renderer)

    def __call__(self, logger: Any, method: str, event_dict: EventDict) -> Any:
        for processor in self._head:
            event_dict = cast("EventDict", processor(logger, method, event_dict))
        if "stack_info" in event_dict:
            event_dict = cast("EventDict", self._stack(logger, method, event_dict))
        result: Any = add_logger_name(logger, method, event_dict)
        for processor in self._tail:
            result = processor(logger, method, result)
        return result
