"""The Django stack users assemble today for backendkit's duties (bench_adapters_django.py's peers).

The recipe is django-structlog's documented setup:

- ``django_structlog`` in ``INSTALLED_APPS`` and its ``RequestMiddleware``: a request id
  (the incoming ``X-Request-ID``, as ``DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID`` allows,
  else a UUID4) and the client IP bound to the structlog contextvars, one
  ``request_finished`` line per request, the contextvars cleared after;
- structlog configured as its documentation shows (``merge_contextvars``,
  ``filter_by_level``, ISO timestamp, logger name, level, ..., ``wrap_for_formatter``) with
  a ``logging`` handler whose ``ProcessorFormatter`` renders JSON, to a file;
- Django's own ``SecurityMiddleware`` sends ``X-Content-Type-Options: nosniff``;
- the limited variant adds django-ratelimit (``@ratelimit(key="ip", rate=..., block=True)``)
  on Django's local-memory cache: in-process memory, as backendkit's limiter gets here.

django-structlog also logs a ``request_started`` line by default; it is set to DEBUG
here (``DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL``), below the handler's INFO, so both apps
write one line per request. django-structlog does not echo the request id on the
response, and the recipe renders no envelope for errors and caps no body: it does less
than backendkit, which can only make it faster.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import structlog

__all__ = ["INSTALLED_APPS", "MIDDLEWARE", "SETTINGS", "configure_structlog", "limited"]

INSTALLED_APPS = ["django_structlog"]
MIDDLEWARE = "django_structlog.middlewares.RequestMiddleware"
BIG_RATE = "1000000/m"  # never reached: the limiter's cost, not its denials, is timed

SETTINGS: dict[str, Any] = {
    "DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL": logging.DEBUG,
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    "LOGGING": {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json_formatter": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processor": structlog.processors.JSONRenderer(),
            },
        },
        "handlers": {
            "json_file": {
                "class": "logging.FileHandler",
                "filename": os.environ.get("BENCH_LOG_FILE") or os.devnull,
                "formatter": "json_formatter",
            },
        },
        "loggers": {
            "django_structlog": {"handlers": ["json_file"], "level": "INFO"},
        },
    },
}


def configure_structlog() -> None:
    """structlog as django-structlog's documentation configures it."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def limited(view: Any) -> Any:
    """``view`` behind django-ratelimit, keyed by the client IP."""
    from django_ratelimit.decorators import ratelimit

    return ratelimit(key="ip", rate=BIG_RATE, block=True)(view)
