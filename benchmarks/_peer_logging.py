"""structlog as the peer stacks configure it: the common recipe, JSON lines to a file.

The recipe most FastAPI and Flask projects copy (structlog's "Rendering using structlog-based
formatters within logging" setup, as in the widely shared FastAPI + uvicorn + structlog
example): structlog's processors shared with the standard library's ``logging``, a
``ProcessorFormatter`` with ``JSONRenderer`` on a ``logging`` handler, so the server's and
libraries' own lines come out as the same JSON. ``cache_logger_on_first_use`` is on, as
the recipe has it. django-structlog's documented setup is the same shape (see
``bench_adapters_django.py``).

``BENCH_LOG_FILE`` names the file (one line per request; the disk is not the bottleneck),
``BENCH_LOG_LEVEL`` the level (INFO).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import structlog

__all__ = ["access_logger", "configure"]


def configure() -> None:
    """Configure structlog and ``logging`` as the recipe does (idempotent per process)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.FileHandler(os.environ.get("BENCH_LOG_FILE") or os.devnull)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("BENCH_LOG_LEVEL", "INFO"))


def access_logger() -> Any:
    """The recipe's access logger (``api.access``)."""
    return structlog.stdlib.get_logger("api.access")
