"""Structured logs: JSON lines in production, a readable console in development.

One pipeline serves both structlog events and records from the standard library's
``logging`` (your framework's, SQLAlchemy's, ...): they get the same timestamp, level,
logger name, request context and redaction, and are rendered by the same renderer.

```
structlog event ─┐                       ┌─ merge request context (request_id, user_id, ...)
                 ├─ shared processors ───┤  add level, logger name, ISO timestamp
stdlib record ───┘                       ├─ your processors (configure_logging(processors=...))
                                         └─ redact secrets ─> JSON line | console line
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

from backendkit.logging._config import configure_logging
from backendkit.logging._context import (
    REQUEST_ID_MAX_LENGTH,
    accept_request_id,
    bind_request_context,
    clear_request_context,
    current_request_id,
    get_request_context,
    new_request_id,
    request_context,
)
from backendkit.logging._loggers import SECURITY_LOGGER, Logger, get_logger, security_event
from backendkit.logging._pipeline import Processor
from backendkit.logging._redact import REDACTED, is_sensitive_key, redact

__all__ = [
    "REDACTED",
    "REQUEST_ID_MAX_LENGTH",
    "SECURITY_LOGGER",
    "Logger",
    "Processor",
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
