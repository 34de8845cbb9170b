"""Capture structlog events in tests, as the production pipeline would see them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
import structlog.testing

from backendkit.logging._pipeline import context_processors
from backendkit.logging._redact import redact_processor

__all__ = ["capture_logs"]


@contextmanager
def capture_logs() -> Iterator[list[dict[str, Any]]]:
    """Collect every structlog event logged inside the block as a list of dicts.

    Unlike ``structlog.testing.capture_logs`` alone, the captured events have passed
    through backendkit's request-context merge and redaction, so a test sees exactly the
    fields (and the ``[REDACTED]`` masks) a production log line would carry. Each dict
    has ``event``, ``log_level`` and the event's fields. Events of every level are
    captured. Not thread-safe (it swaps structlog's global processors).

    Example:
        >>> from backendkit.logging import get_logger
        >>> with capture_logs() as logs:
        ...     get_logger("demo").warning("login_failed", password="hunter2")
        >>> entry = logs[0]
        >>> entry["event"], entry["password"], entry["log_level"]
        ('login_failed', '[REDACTED]', 'warning')
    """
    capture = structlog.testing.LogCapture()
    # Same technique as structlog.testing.capture_logs: swap the *contents* of the
    # configured processor list, since bound loggers hold a reference to that list.
    config = structlog.get_config()
    processors = config["processors"]
    saved = list(processors)
    saved_wrapper = config["wrapper_class"]
    try:
        processors[:] = [*context_processors(), redact_processor, capture]
        # Every level is captured, whatever level configure_logging() set.
        structlog.configure(
            processors=processors,
            wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
        )
        yield capture.entries  # type: ignore[misc]
    finally:
        processors[:] = saved
        structlog.configure(processors=processors, wrapper_class=saved_wrapper)
