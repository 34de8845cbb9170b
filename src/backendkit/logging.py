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
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

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


class _BackendKitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the root handler ``configure_logging`` installed, so a re-run replaces it."""


def _context_processors() -> list[Processor]:
    """Processors that add context to an event; shared by the pipeline and log capture."""
    return [structlog.contextvars.merge_contextvars, merge_request_context]


def _shared_processors() -> list[Processor]:
    return [
        *_context_processors(),
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
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

    def __call__(self, *args: Any) -> _NamedWriteLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        return _NamedWriteLogger(self._file, name)


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
    structlog.configure(
        processors=[*shared, _add_logger_name, redact_processor, *renderer],
        logger_factory=_NamedWriteLoggerFactory(out),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Off so that loggers created at import time follow later reconfiguration
        # (including backendkit.testing.capture_logs).
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_processor,
            *renderer,
        ],
    )
    handler = _BackendKitHandler(out)
    handler.setFormatter(formatter)
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
