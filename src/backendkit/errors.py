"""The exception tree and the error-code catalogue.

Every error a client can see is an [`AppError`][backendkit.errors.AppError]: it carries the
wire ``code``, the HTTP ``status``, a client-safe ``message``, optional field-level
``details`` and optional response ``headers``. Anything else that escapes a handler is
mapped to [`InternalError`][backendkit.errors.InternalError] by
[`to_app_error`][backendkit.errors.to_app_error]; the original exception is for the logs only.

```
BackendKitError
├── AppError                        (rendered into the error envelope)
│   ├── BadRequest                  400 BAD_REQUEST
│   ├── ValidationFailed            400 VALIDATION_ERROR
│   ├── Unauthenticated             401 UNAUTHENTICATED
│   │   └── InvalidToken            401 INVALID_TOKEN
│   ├── Forbidden                   403 FORBIDDEN
│   ├── NotFound                    404 NOT_FOUND
│   ├── MethodNotAllowed            405 METHOD_NOT_ALLOWED
│   ├── Conflict                    409 CONFLICT
│   ├── PayloadTooLarge             413 PAYLOAD_TOO_LARGE
│   ├── UnsupportedMediaType        415 UNSUPPORTED_MEDIA_TYPE
│   ├── RateLimited                 429 RATE_LIMITED
│   ├── InternalError               500 INTERNAL_ERROR
│   └── ServiceUnavailable          503 SERVICE_UNAVAILABLE
│       └── BackendUnavailable      503 (a storage backend such as Redis is down)
├── ConfigurationError              (backendkit set up wrong: settings, wiring)
└── MissingDependencyError          (also an ImportError: an optional extra is not installed)
```
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "ERROR_CATALOGUE",
    "AppError",
    "BackendKitError",
    "BackendUnavailable",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ErrorDetail",
    "Forbidden",
    "InternalError",
    "InvalidToken",
    "MethodNotAllowed",
    "MissingDependencyError",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServiceUnavailable",
    "Unauthenticated",
    "UnsupportedMediaType",
    "ValidationFailed",
    "retry_after_header",
    "to_app_error",
]


#: ``Retry-After`` seconds of a 503 that names no time itself (a database outage has no
#: breaker to ask): the default of the ``retry_after`` setting.
DEFAULT_RETRY_AFTER = 5.0


class BackendKitError(Exception):
    """Root of every exception raised by backendkit."""


class ConfigurationError(BackendKitError):
    """backendkit is set up wrong: invalid settings, or a component asked to do what it cannot.

    Raised when the service is built or installed wherever the mistake shows then (a
    default limit without a limiter, an ambiguous rate-limit key). A mistake only a request
    can reveal (an async key function on a sync view) raises it on that request, which
    the client sees as a 500 ``INTERNAL_ERROR``.
    """


class MissingDependencyError(BackendKitError, ImportError):
    """An optional extra is not installed.

    The message names the extra to install, e.g. ``pip install 'backendkit[redis]'``.
    """


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One field-level problem: ``{"field": "address.street", "message": "Field required"}``.

    ``field`` is a dotted path with list indexes in brackets (``items[2].qty``); it is
    ``None`` for problems that concern the whole body.
    """

    field: str | None
    message: str

    def to_dict(self) -> dict[str, str | None]:
        """Return the wire form of this detail."""
        return {"field": self.field, "message": self.message}


class AppError(BackendKitError):
    """An error with a stable wire code, an HTTP status and a client-safe message.

    Subclasses fix ``code``, ``status`` and ``default_message``; instances may override the
    message and add details and headers.

    Example:
        >>> err = NotFound("User not found")
        >>> (err.code, err.status, err.message)
        ('NOT_FOUND', 404, 'User not found')
    """

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    default_message: ClassVar[str] = "An unexpected error occurred"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Iterable[ErrorDetail] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message: str = message if message is not None else self.default_message
        self.details: tuple[ErrorDetail, ...] = tuple(details or ())
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class BadRequest(AppError):
    """The request could not be read: malformed JSON, invalid UTF-8, nesting too deep."""

    code = "BAD_REQUEST"
    status = 400
    default_message = "The request could not be understood"


class ValidationFailed(AppError):
    """The request was readable but its content is invalid; ``details`` lists each field."""

    code = "VALIDATION_ERROR"
    status = 400
    default_message = "The request contains invalid fields"


class Unauthenticated(AppError):
    """No credentials, or credentials that could not be accepted."""

    code = "UNAUTHENTICATED"
    status = 401
    default_message = "Authentication is required"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Iterable[ErrorDetail] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = {"WWW-Authenticate": "Bearer"}
        merged.update(headers or {})
        super().__init__(message, details=details, headers=merged)


class InvalidToken(Unauthenticated):
    """A token failed verification. The message is generic; the reason goes to the logs."""

    code = "INVALID_TOKEN"
    status = 401
    default_message = "The token is invalid or has expired"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Iterable[ErrorDetail] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        merged.update(headers or {})
        super().__init__(message, details=details, headers=merged)


class Forbidden(AppError):
    """Authenticated, but not allowed to do this."""

    code = "FORBIDDEN"
    status = 403
    default_message = "You do not have permission to perform this action"


class NotFound(AppError):
    """The resource (or route) does not exist."""

    code = "NOT_FOUND"
    status = 404
    default_message = "The requested resource was not found"


class MethodNotAllowed(AppError):
    """The route exists but not for this HTTP method.

    Example:
        >>> MethodNotAllowed(allowed=["GET", "POST"]).headers
        {'Allow': 'GET, POST'}
    """

    code = "METHOD_NOT_ALLOWED"
    status = 405
    default_message = "This method is not allowed for this resource"

    def __init__(
        self,
        message: str | None = None,
        *,
        allowed: Iterable[str] | None = None,
        details: Iterable[ErrorDetail] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged: dict[str, str] = {}
        if allowed is not None:
            merged["Allow"] = ", ".join(sorted({m.upper() for m in allowed}))
        merged.update(headers or {})
        super().__init__(message, details=details, headers=merged)


class Conflict(AppError):
    """The request conflicts with the current state (duplicate key, stale version)."""

    code = "CONFLICT"
    status = 409
    default_message = "The request conflicts with the current state of the resource"


class PayloadTooLarge(AppError):
    """The request body is larger than the configured cap."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413
    default_message = "The request body is too large"


class UnsupportedMediaType(AppError):
    """The request body is not in a media type this endpoint accepts."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    default_message = "The request body must be application/json"


class _RetryLater(AppError):
    """An error that tells the client when to come back (``Retry-After``)."""

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        details: Iterable[ErrorDetail] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        merged: dict[str, str] = {}
        if retry_after is not None:
            merged["Retry-After"] = retry_after_header(retry_after)
        merged.update(headers or {})
        self.retry_after = retry_after
        super().__init__(message, details=details, headers=merged)


class RateLimited(_RetryLater):
    """Too many requests; carries ``Retry-After`` (whole seconds, rounded up, at least 1).

    Example:
        >>> RateLimited(retry_after=1.2).headers["Retry-After"]
        '2'
    """

    code = "RATE_LIMITED"
    status = 429
    default_message = "Too many requests, please try again later"


class InternalError(AppError):
    """Something failed on our side. The message never carries internals."""

    code = "INTERNAL_ERROR"
    status = 500
    default_message = "An unexpected error occurred"


class ServiceUnavailable(_RetryLater):
    """A dependency is down or the service is overloaded; the client may retry later.

    ``retry_after`` becomes the ``Retry-After`` header (whole seconds, rounded up, at
    least 1). Without it, the web layer adds its ``retry_after`` setting, so every 503 a
    client sees says when to come back.

    Example:
        >>> ServiceUnavailable(retry_after=0.2).headers["Retry-After"]
        '1'
    """

    code = "SERVICE_UNAVAILABLE"
    status = 503
    default_message = "The service is temporarily unavailable"


def retry_after_header(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, rounded up, at least 1 (0 invites a retry storm)."""
    return str(max(1, math.ceil(seconds))) if math.isfinite(seconds) else "1"


class BackendUnavailable(ServiceUnavailable):
    """A storage backend (Redis, a database) could not be reached or timed out.

    Components decide what this means for them: the limiter and the cache fail soft by
    policy, refresh-token rotation fails closed with a 503.
    """


#: Every wire code and its HTTP status.
ERROR_CATALOGUE: Mapping[str, int] = {
    cls.code: cls.status
    for cls in (
        ValidationFailed,
        BadRequest,
        Unauthenticated,
        InvalidToken,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
        InternalError,
        ServiceUnavailable,
    )
}


def to_app_error(exc: BaseException) -> AppError:
    """Map any exception to the error a client may see.

    An ``AppError`` is returned as it is; anything else becomes a generic
    ``InternalError`` so that no internal detail reaches a client.

    Example:
        >>> to_app_error(KeyError("secret_column")).message
        'An unexpected error occurred'
    """
    if isinstance(exc, AppError):
        return exc
    return InternalError()
