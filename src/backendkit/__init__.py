"""backendkit: typed, framework-agnostic backend plumbing for Python services.

The top-level package re-exports the core, which needs only pydantic and structlog: errors,
envelopes, validation and field types, pagination and cursors, settings, the clock and
logging. Everything else is imported from its own package: `backendkit.web` (the
framework-free request pipeline the adapters share), `backendkit.cache` and
`backendkit.testing` need no extra; `backendkit.auth`, `backendkit.ratelimit` and
`backendkit.redis` need the extra of the same name, `backendkit.repository` the
``sqlalchemy`` extra, and `backendkit.adapters.*` their framework's.

Names whose module builds pydantic models (validation, field types, pages, envelopes,
settings) are imported on first use, so `import backendkit` costs little more than
importing structlog; `from backendkit import ApiModel` works as always.

Example:
    >>> import backendkit
    >>> backendkit.success({"id": 1}, message="User retrieved successfully")
    {'success': True, 'data': {'id': 1}, 'message': 'User retrieved successfully'}
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports
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
from backendkit.logging import (
    accept_request_id,
    bind_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    request_context,
    security_event,
)

if _typing.TYPE_CHECKING:
    from backendkit.fields import Email, Password, PositiveId, UUIDStr, password_field
    from backendkit.listing import (
        CursorCodec,
        CursorPage,
        CursorParams,
        Page,
        PageParams,
        cursor_binding,
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


# The errors, the clock and logging above are imported with the package: nearly every module
# of a service uses them as it is itself imported (`log = get_logger(__name__)`, a subclass
# of `Conflict`), and they cost little beyond structlog. The names below are imported from
# their module on first use: most of those modules build pydantic models as they load (the
# first model built in a process also makes pydantic scan the installed packages for
# plugins), which a program that never touches them should not pay for at `import backendkit`.
_HOMES = {
    "Email": "backendkit.fields",
    "Password": "backendkit.fields",
    "PositiveId": "backendkit.fields",
    "UUIDStr": "backendkit.fields",
    "password_field": "backendkit.fields",
    "CursorCodec": "backendkit.listing",
    "CursorPage": "backendkit.listing",
    "CursorParams": "backendkit.listing",
    "Page": "backendkit.listing",
    "PageParams": "backendkit.listing",
    "cursor_binding": "backendkit.listing",
    "CursorPageEnvelope": "backendkit.responses",
    "Envelope": "backendkit.responses",
    "ErrorEnvelope": "backendkit.responses",
    "PageEnvelope": "backendkit.responses",
    "RenderedResponse": "backendkit.responses",
    "error_response": "backendkit.responses",
    "failure": "backendkit.responses",
    "paginated": "backendkit.responses",
    "render_json": "backendkit.responses",
    "success": "backendkit.responses",
    "Settings": "backendkit.settings",
    "ApiModel": "backendkit.validation",
    "parse_json": "backendkit.validation",
    "validate": "backendkit.validation",
    "validate_query": "backendkit.validation",
}

__getattr__, __dir__ = _lazy_exports(globals(), _HOMES)
