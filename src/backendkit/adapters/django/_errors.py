"""Django's own request exceptions, mapped onto the error catalogue."""

from __future__ import annotations

from django.core.exceptions import (  # type: ignore[import-untyped]
    NON_FIELD_ERRORS,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.http import Http404  # type: ignore[import-untyped]
from django.http.multipartparser import MultiPartParserError  # type: ignore[import-untyped]

from backendkit._db_errors import bad_input_error
from backendkit.errors import (
    AppError,
    BadRequest,
    ErrorDetail,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)

__all__ = ["from_django_exception"]


def from_django_exception(exc: BaseException) -> BaseException:
    """The catalogue error for one of Django's request exceptions; others as they are.

    ``RequestDataTooBig`` (a 400 in Django) is ``413``; framework messages give way to the
    catalogue's (``DisallowedHost`` quotes a header); a value the database refused (too
    long, out of range) is ``400 BAD_REQUEST``.
    """
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, PermissionDenied):
        return Forbidden()
    if isinstance(exc, ValidationError):
        return ValidationFailed(details=_details(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation | DjangoBadRequest | MultiPartParserError):
        return BadRequest()
    return bad_input_error(exc) or exc


def _details(exc: ValidationError) -> list[ErrorDetail]:
    """One detail per message of a ``ValidationError``, never echoing the value."""
    if not hasattr(exc, "error_dict"):
        return [ErrorDetail(None, _message(error)) for error in exc.error_list]
    return [
        ErrorDetail(None if field == NON_FIELD_ERRORS else field, _message(error))
        for field, errors in exc.error_dict.items()
        for error in errors
    ]


def _message(error: ValidationError) -> str:
    params = error.params or {}
    if "value" in params:  # Django's messages quote the value ("'x' is not a valid UUID")
        return "Invalid value."
    message = str(error.message)
    return message % params if params else message
