"""Getting a logger, and the security events every service logs the same way."""

from __future__ import annotations

from typing import Any, cast

import structlog
from structlog.typing import FilteringBoundLogger

__all__ = ["SECURITY_LOGGER", "Logger", "get_logger", "security_event"]

#: The type of the loggers [`get_logger`][backendkit.logging.get_logger] returns.
Logger = FilteringBoundLogger

#: Name of the logger that [`security_event`][backendkit.logging.security_event] uses.
SECURITY_LOGGER = "backendkit.security"


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
