"""Turning any exception into the error envelope, and logging what clients must not see."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from backendkit.errors import (
    DEFAULT_RETRY_AFTER,
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Unauthenticated,
    UnsupportedMediaType,
    retry_after_header,
    to_app_error,
)
from backendkit.logging import get_logger
from backendkit.responses import RenderedResponse, error_response

__all__ = ["error_for_status", "render_error"]

_log = get_logger("backendkit.web")


def render_error(
    exc: BaseException,
    *,
    request_id: str | None,
    problem: bool = False,
    user_id: str | None = None,
    retry_after: float = DEFAULT_RETRY_AFTER,
) -> RenderedResponse:
    """Render ``exc`` as an error response.

    An [`AppError`][backendkit.errors.AppError] becomes its own envelope (with its
    headers, e.g. ``WWW-Authenticate`` or ``Retry-After``). Anything else becomes a ``500
    INTERNAL_ERROR`` with a generic message; its traceback is logged as
    ``unhandled_exception`` with the request id and user id, never put in the response.
    Every ``503`` carries ``Retry-After``: the error's own (a Redis breaker's remaining
    cooldown), else ``retry_after``.

    Args:
        exc: the exception a handler raised.
        request_id: the current request id (echoed in the body).
        problem: render RFC 9457 ``application/problem+json`` instead of the envelope.
        user_id: the authenticated user, for the log line.
        retry_after: seconds for a ``503`` that names no time itself (a database outage);
            the adapters pass the ``retry_after`` setting.
    """
    error = _with_retry_after(to_app_error(exc), retry_after)
    if error is not exc:
        _log.error(
            "unhandled_exception",
            exc_info=exc,
            request_id=request_id,
            user_id=user_id,
            exception_type=type(exc).__name__,
        )
    elif isinstance(exc, AppError) and exc.status >= 500:
        # Deliberate 5xx (a backend is down): worth a warning, not a traceback.
        _log.warning("server_error", code=exc.code, request_id=request_id, user_id=user_id)
    return error_response(error, request_id=request_id, problem=problem)


def _with_retry_after(error: AppError, seconds: float) -> AppError:
    if error.status == 503 and not any(name.lower() == "retry-after" for name in error.headers):
        error.headers["Retry-After"] = retry_after_header(seconds)
    return error


# Status codes a framework raises itself, and the error each one becomes.
_BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthenticated,
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


@functools.lru_cache(maxsize=64)
def _other_status(status: int) -> type[AppError]:
    # A status outside the catalogue (418, 422, 502...) keeps its number; its code is the
    # catalogue's generic one for its class, so clients still see a known code.
    base = InternalError if status >= 500 else BadRequest
    return type(f"HTTPStatus{status}", (base,), {"status": status, "__module__": __name__})


def error_for_status(
    status: int,
    *,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> AppError:
    """The [`AppError`][backendkit.errors.AppError] for a framework's own HTTP error.

    Frameworks raise plain status codes for route misses (404), wrong methods (405, with
    an ``Allow`` header) and the like; this gives each the catalogue's code and message.
    A client-facing ``message`` is kept for 4xx only: a 5xx message could carry internals.

    Args:
        status: the HTTP status (400-599).
        message: the framework's detail text, if it is meant for clients.
        headers: the framework's headers for the response (``Allow``, ``WWW-Authenticate``).

    Example:
        >>> err = error_for_status(405, headers={"Allow": "GET, HEAD"})
        >>> (err.code, err.headers["Allow"])
        ('METHOD_NOT_ALLOWED', 'GET, HEAD')
    """
    cls = _BY_STATUS.get(status) or _other_status(status)
    text = message if status < 500 else None
    return cls(text, headers=headers)
