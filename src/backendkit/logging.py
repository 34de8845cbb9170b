"""Structured logs: JSON lines in production, a readable console in development.

One pipeline serves both structlog events and records from the standard library's
``logging`` (your framework's, SQLAlchemy's, ...): they get the same timestamp, level,
logger name, request context and redaction, and are rendered by the same renderer.

```
structlog event ─┐                       ┌─ merge request context (request_id, user_id, ...)
                 ├─ shared processors ───┤  add level, logger name, ISO timestamp
stdlib record ───┘                       └─ redact secrets ─> JSON line | console line
```

Example:
    ```python
    from backendkit.logging import configure_logging, get_logger, request_context

    configure_logging(fmt="json")
    log = get_logger(__name__)
    with request_context(request_id="abc123", method="GET", path="/users"):
        log.info("users_listed", count=3, password="hunter2")
    # {"count": 3, "password": "[REDACTED]", "event": "users_listed",
    #  "request_id": "abc123", "method": "GET", "path": "/users", "level": "info", ...}
    ```
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TextIO, cast

import structlog
from pydantic_core import to_json
from structlog.typing import FilteringBoundLogger

from backendkit._logging_context import (
    REQUEST_ID_MAX_LENGTH,
    accept_request_id,
    bind_request_context,
    clear_request_context,
    current_request_id,
    get_request_context,
    merge_request_context,
    new_request_id,
    request_context,
)
from backendkit._logging_redact import REDACTED, is_sensitive_key, redact, redact_processor
from backendkit._logging_servers import ServerAccessFilter, clean_server_records
from backendkit._logging_urls import strip_request_urls

if TYPE_CHECKING:
    from structlog.typing import EventDict, Processor

    from backendkit.settings import Settings

#: The type of the loggers [`get_logger`][backendkit.logging.get_logger] returns.
Logger = FilteringBoundLogger

__all__ = [
    "REDACTED",
    "REQUEST_ID_MAX_LENGTH",
    "SECURITY_LOGGER",
    "Logger",
    "accept_request_id",
    "bind_request_context",
    "clear_request_context",
    "configure_logging",
    "current_request_id",
    "get_logger",
    "get_request_context",
    "is_sensitive_key",
    "new_request_id",
    "redact",
    "request_context",
    "security_event",
]

#: Name of the logger that [`security_event`][backendkit.logging.security_event] uses.
SECURITY_LOGGER = "backendkit.security"

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Logger names come from code, not input; the bound only guards against a program that
# makes names from data.
_MAX_CACHED_LOGGERS = 1024


class _BackendKitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the root handler ``configure_logging`` installed, so a re-run replaces it."""


def _context_processors() -> list[Processor]:
    """Processors that add context to an event; shared by the pipeline and log capture."""
    return [structlog.contextvars.merge_contextvars, merge_request_context]


class _UtcTimestamper:
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


def _shared_processors() -> list[Processor]:
    # The stack-info renderer stays last: _Pipeline runs it only when asked for.
    return [
        *_context_processors(),
        structlog.stdlib.add_log_level,
        _UtcTimestamper(),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderer(fmt: Literal["json", "console"]) -> list[Processor]:
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


class _NamedWriteLogger(structlog.WriteLogger):
    """A WriteLogger that knows the name it was asked for (the event's ``logger`` field)."""

    def __init__(self, file: TextIO, name: str | None) -> None:
        super().__init__(file)
        self.name = name


class _NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self._file = file
        # One output logger per name: structlog asks for one on every event of a logger
        # that is not cached, and they hold nothing but the file and the name.
        self._loggers: dict[str | None, _NamedWriteLogger] = {}

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        logger = self._loggers.get(name)
        if logger is None:
            logger = _NamedWriteLogger(self._file, name)
            if len(self._loggers) < _MAX_CACHED_LOGGERS:
                self._loggers[name] = logger
        return logger


class _Pipeline:
    """The structlog events' processor chain, run as one processor.

    The same steps in the same order as the standard library's chain (``shared``, the
    logger's name, redaction, ``renderer``), with the stack-info renderer run only when an
    event asks for it. One call for structlog instead of nine: every log line pays for
    each processor structlog calls.
    """

    __slots__ = ("_head", "_stack", "_tail")

    def __init__(self, shared: list[Processor], renderer: list[Processor]) -> None:
        *head, stack = shared  # _shared_processors() ends with the stack-info renderer
        self._head = tuple(head)
        self._stack = stack
        self._tail = tuple(renderer)

    def __call__(self, logger: Any, method: str, event_dict: EventDict) -> Any:
        for processor in self._head:
            event_dict = cast("EventDict", processor(logger, method, event_dict))
        if "stack_info" in event_dict:
            event_dict = cast("EventDict", self._stack(logger, method, event_dict))
        event_dict = _add_logger_name(logger, method, event_dict)
        event_dict = redact_processor(logger, method, event_dict)
        result: Any = event_dict
        for processor in self._tail:
            result = processor(logger, method, result)
        return result


def _add_logger_name(logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    name = getattr(logger, "name", None)
    if name is not None:
        event_dict.setdefault("logger", name)
    return event_dict


def _dumps(obj: Any, **_options: Any) -> str:
    # pydantic-core's encoder is several times faster than the stdlib's on small events;
    # anything it cannot encode is logged as its str() rather than failing the log call.
    return to_json(obj, fallback=str).decode()


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | int | None = None,
    fmt: Literal["json", "console", "auto"] | None = None,
    stream: TextIO | None = None,
    server_access_log: bool = False,
) -> None:
    """Configure structlog and the standard library's root logger with one pipeline.

    Call it once at start-up (calling it again replaces the previous configuration).
    Explicit arguments win over ``settings``; without either, the level is ``INFO`` and
    the format JSON (production is the default environment).

    Args:
        settings: reads ``log_level`` and ``log_format`` (``auto``: console in
            development, JSON elsewhere).
        level: a level name (``"DEBUG"``...) or number.
        fmt: ``"json"`` (one JSON object per line), ``"console"`` or ``"auto"``.
        stream: where lines go; ``sys.stderr`` by default.
        server_access_log: keep the servers' own request lines (uvicorn's, gunicorn's,
            ``flask run``'s, runserver's). Off by default: backendkit's adapters log every
            request once (``request_completed``), so each request is one line.

    Raises:
        ValueError: unknown level or format.
    """
    resolved_fmt = _resolve_format(settings, fmt)
    numeric_level = _resolve_level(settings, level)
    out = stream if stream is not None else sys.stderr
    shared = _shared_processors()
    # structlog events are rendered and written directly: routing them through a stdlib
    # Logger, LogRecord and Formatter cost more than the rest of a request's logging.
    # The processors and the renderer are the same objects the stdlib handler uses, so
    # both kinds of event come out identical.
    renderer = _renderer(resolved_fmt)
    global _installed
    pipeline = _Pipeline(shared, renderer)
    installed = _Installed(
        processors=[pipeline],
        pipeline=pipeline,
        wrapper=structlog.make_filtering_bound_logger(numeric_level),
        factory=_NamedWriteLoggerFactory(out),
        level=numeric_level,
    )
    structlog.configure(
        processors=installed.processors,
        logger_factory=installed.factory,
        wrapper_class=installed.wrapper,
        # Off so that loggers created at import time follow later reconfiguration
        # (including backendkit.testing.capture_logs).
        cache_logger_on_first_use=False,
    )
    _installed = installed
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
            # Frameworks' own request logs (django.request, runserver): no query strings.
            strip_request_urls,
            clean_server_records,  # uvicorn's color_message, escape codes: gone
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_processor,
            *renderer,
        ],
    )
    handler = _BackendKitHandler(out)
    handler.setFormatter(formatter)
    if not server_access_log:
        handler.addFilter(ServerAccessFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BackendKitHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric_level)


def _resolve_format(
    settings: Settings | None, fmt: Literal["json", "console", "auto"] | None
) -> Literal["json", "console"]:
    if fmt is None or fmt == "auto":
        if settings is not None:
            if fmt is None:
                return settings.resolved_log_format
            return "console" if settings.env == "development" else "json"
        return "json"
    if fmt not in ("json", "console"):
        raise ValueError(f"unknown log format {fmt!r} (expected json, console or auto)")
    return fmt


def _resolve_level(settings: Settings | None, level: str | int | None) -> int:
    if level is None:
        level = settings.log_level if settings is not None else "INFO"
    if isinstance(level, int):
        return level
    name = level.upper()
    if name not in _LEVELS:
        raise ValueError(f"unknown log level {level!r} (expected one of {', '.join(_LEVELS)})")
    return cast(int, getattr(logging, name))


def get_logger(name: str | None = None, **initial_values: Any) -> Logger:
    """Return a structlog logger; ``name`` becomes the ``logger`` field of its events.

    Log named events with keyword fields, never secrets:
    ``get_logger(__name__).warning("login_failed", user_id=42)``.
    """
    if name is None:
        return cast(Logger, structlog.get_logger(**initial_values))
    return cast(Logger, structlog.get_logger(name, **initial_values))


class _HotLogger:
    """The logger of a per-request hot path (the access log).

    ``get_logger`` returns a lazy proxy that assembles a new bound logger for every event
    (so that loggers made at import time follow a later ``configure``, and
    ``capture_logs``). Under the configuration ``configure_logging`` installed, this runs
    its pipeline and writes the line itself: what structlog's bound logger would do, less
    the assembling and the generic plumbing. Under any other configuration (a test's
    capture, the application's own), it logs through a bound logger assembled once per
    configuration.
    """

    __slots__ = ("_bound", "_key", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._key: tuple[Any, ...] = ()
        self._bound: Logger | None = None

    def info(self, event: str, **fields: Any) -> None:
        """Log ``event`` at INFO with ``fields`` (like ``get_logger(name).info``)."""
        config = structlog.get_config()
        installed = _installed
        processors = config["processors"]
        if (
            installed is not None
            and processors is installed.processors
            and len(processors) == 1
            and processors[0] is installed.pipeline
            and config["wrapper_class"] is installed.wrapper
            and config["logger_factory"] is installed.factory
            and config["context_class"] is dict
        ):
            if installed.level <= logging.INFO:
                logger = installed.factory(self._name)
                fields["event"] = event
                logger.msg(installed.pipeline(logger, "info", fields))
            return
        self._bound_logger(config).info(event, **fields)

    def _bound_logger(self, config: dict[str, Any]) -> Logger:
        key = (
            config["processors"],
            config["wrapper_class"],
            config["logger_factory"],
            config["context_class"],
        )
        bound = self._bound
        # Identity, not equality (the key holds the objects, so none can be replaced by a
        # new one at the same address).
        if bound is None or any(new is not old for new, old in zip(key, self._key, strict=True)):
            bound = cast(Logger, structlog.get_logger(self._name).bind())
            self._bound, self._key = bound, key
        return bound


class _Installed(NamedTuple):
    """What ``configure_logging`` gave structlog (how ``_HotLogger`` recognises it)."""

    processors: list[Processor]
    pipeline: _Pipeline
    wrapper: type
    factory: _NamedWriteLoggerFactory
    level: int


_installed: _Installed | None = None


def security_event(name: str, **fields: Any) -> None:
    """Log a named security event (failed login, refresh-token reuse, ...) at WARNING.

    The event carries ``security=True`` so log pipelines can route it, plus the request
    context and ``fields`` (redacted like every event).

    Example:
        ```python
        security_event("refresh_token_reuse", user_id=42, family="f1")
        ```
    """
    get_logger(SECURITY_LOGGER).warning(name, security=True, **fields)
