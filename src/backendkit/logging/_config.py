"""``configure_logging``: one pipeline for structlog events and standard library records."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TextIO, cast

import structlog

from backendkit.logging._pipeline import (
    ChainStep,
    NamedWriteLoggerFactory,
    Pipeline,
    Processor,
    renderer,
    shared_processors,
)
from backendkit.logging._redact import redact_processor
from backendkit.logging._servers import ServerAccessFilter, clean_server_records
from backendkit.logging._urls import strip_request_urls

if TYPE_CHECKING:
    from backendkit.settings import Settings

__all__ = ["Installed", "LastConfiguration", "configure_logging", "last_configuration"]

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class _BackendKitHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the root handler ``configure_logging`` installed, so a re-run replaces it."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record, unless one of the user's processors dropped it."""
        try:
            super().emit(record)
        except structlog.DropEvent:
            # structlog's way to drop an event; a BaseException, so StreamHandler lets it
            # through, and it must not reach the code that logged.
            return


class Installed(NamedTuple):
    """What ``configure_logging`` gave structlog (how ``HotLogger`` recognises it)."""

    processors: list[ChainStep]
    pipeline: Pipeline
    wrapper: type
    factory: NamedWriteLoggerFactory
    level: int
    #: ``structlog.get_config()`` while this one is in force, compared as a whole (one
    #: C-level dict comparison): its own processor list (compared by contents: a capture
    #: swaps the items of the installed list), and the plain ``dict`` context class.
    signature: dict[str, Any]


class LastConfiguration:
    """Holds what the last ``configure_logging`` call installed (``None`` before the first)."""

    __slots__ = ("installed",)

    def __init__(self) -> None:
        self.installed: Installed | None = None


#: ``configure_logging`` writes it; ``HotLogger`` reads it on every event.
last_configuration = LastConfiguration()


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | int | None = None,
    fmt: Literal["json", "console", "auto"] | None = None,
    stream: TextIO | None = None,
    server_access_log: bool = False,
    processors: Iterable[Processor] | None = None,
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
        processors: your own [`Processor`][backendkit.logging.Processor]s, run in order
            on every event (structlog's and the standard library's) after the request
            context, level, timestamp and logger name are added and before redaction, so
            what they add is masked like any other field.

    Raises:
        ValueError: unknown level or format.
        TypeError: ``processors`` is not a list of callables.

    Example:
        ```python
        def add_region(logger, method_name, event_dict):
            event_dict["region"] = "eu-west-1"
            return event_dict

        configure_logging(fmt="json", processors=[add_region])
        ```
    """
    resolved_fmt = _resolve_format(settings, fmt)
    numeric_level = _resolve_level(settings, level)
    user = _user_processors(processors)
    out = stream if stream is not None else sys.stderr
    shared = shared_processors()
    # structlog events are rendered and written directly: routing them through a stdlib
    # Logger, LogRecord and Formatter cost more than the rest of a request's logging.
    # The processors and the renderer are the same objects the stdlib handler uses, so
    # both kinds of event come out identical.
    rendering = renderer(resolved_fmt)
    pipeline = Pipeline(shared, user, rendering)
    wrapper = structlog.make_filtering_bound_logger(numeric_level)
    factory = NamedWriteLoggerFactory(out)
    chain: list[ChainStep] = [pipeline]
    structlog.configure(
        processors=chain,
        logger_factory=factory,
        wrapper_class=wrapper,
        # Off so that loggers created at import time follow later reconfiguration
        # (including backendkit.testing.capture_logs).
        cache_logger_on_first_use=False,
    )
    last_configuration.installed = Installed(
        processors=chain,
        pipeline=pipeline,
        wrapper=wrapper,
        factory=factory,
        level=numeric_level,
        signature={**structlog.get_config(), "processors": [pipeline], "context_class": dict},
    )
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
            # The user's processors see the same event dict as on structlog's side.
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *user,
            redact_processor,
            *rendering,
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


def _user_processors(processors: Iterable[Processor] | None) -> tuple[Processor, ...]:
    # Checked before anything is installed: a mistake leaves the previous configuration.
    if processors is None:
        return ()
    if isinstance(processors, str | bytes) or not isinstance(processors, Iterable):
        raise TypeError(
            "processors must be a list of callables (logger, method_name, event_dict) -> "
            f"event_dict, not {type(processors).__name__}"
        )
    result = tuple(processors)
    for processor in result:
        if not callable(processor):
            raise TypeError(
                f"processors: {processor!r} is not callable (expected a function "
                "(logger, method_name, event_dict) -> event_dict)"
            )
    return result


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
