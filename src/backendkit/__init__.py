"""backendkit: typed, framework-agnostic backend plumbing for Python services.

The top-level package re-exports the core, which needs only pydantic and structlog: errors,
envelopes, validation and field types, pagination and cursors, settings, the clock and
logging. Everything else is imported from its own package: `backendkit.web` (the
framework-free request pipeline the adapters share), `backendkit.cache` and
`backendkit.testing` need no extra; `backendkit.auth`, `backendkit.ratelimit` and
`backendkit.redis` need the extra of the same name, `backendkit.repository` the
``sqlalchemy`` extra, and `backendkit.adapters.*` their framework's.

Example:
    >>> import backendkit
    >>> backendkit.success({"id": 1}, message="User retrieved successfully")
    {'success': True, 'data': {'id': 1}, 'message': 'User retrieved successfully'}
"""

from backendkit.clock import Clock, SystemClock, system_clock
from backendkit.errors import (
    ERROR_CATALOGUE,
    AppError,
    BackendKitError,
    BackendUnavailable,
    BadRequest,
    ConfigurationError,
    Conflict,
    ErrorDetail,
    Forbidden,
    InternalError,
    InvalidToken,
    MethodNotAllowed,
    MissingDependencyError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
    to_app_error,
)
from backendkit.fields import Email, Password, PositiveId, UUIDStr, password_field
from backendkit.listing import (
    CursorCodec,
    CursorPage,
    CursorParams,
    Page,
    PageParams,
    cursor_binding,
)
from backendkit.logging import (
    accept_request_id,
    bind_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    request_context,
    security_event,
)
from backendkit.responses import (
    CursorPageEnvelope,
    Envelope,
    ErrorEnvelope,
    PageEnvelope,
    RenderedResponse,
    error_response,
    failure,
    paginated,
    render_json,
    success,
)
from backendkit.settings import Settings
from backendkit.validation import ApiModel, parse_json, validate, validate_query

# The one place the version is written: pyproject.toml reads it ([tool.hatch.version]).
__version__ = "0.1.0"

__all__ = [
    "ERROR_CATALOGUE",
    "ApiModel",
    "AppError",
    "BackendKitError",
    "BackendUnavailable",
    "BadRequest",
    "Clock",
    "ConfigurationError",
    "Conflict",
    "CursorCodec",
    "CursorPage",
    "CursorPageEnvelope",
    "CursorParams",
    "Email",
    "Envelope",
    "ErrorDetail",
    "ErrorEnvelope",
    "Forbidden",
    "InternalError",
    "InvalidToken",
    "MethodNotAllowed",
    "MissingDependencyError",
    "NotFound",
    "Page",
    "PageEnvelope",
    "PageParams",
    "Password",
    "PayloadTooLarge",
    "PositiveId",
    "RateLimited",
    "RenderedResponse",
    "ServiceUnavailable",
    "Settings",
    "SystemClock",
    "UUIDStr",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationFailed",
    "__version__",
    "accept_request_id",
    "bind_request_context",
    "clear_request_context",
    "configure_logging",
    "cursor_binding",
    "error_response",
    "failure",
    "get_logger",
    "paginated",
    "parse_json",
    "password_field",
    "render_json",
    "request_context",
    "security_event",
    "success",
    "system_clock",
    "to_app_error",
    "validate",
    "validate_query",
]
