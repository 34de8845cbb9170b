"""Django's own request exceptions, mapped onto the error catalogue."""

from __future__ import annotations

from backendkit._db_errors import bad_input_error
from backendkit._extras import require

require("django", "django")

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

from backendkit.errors import (
    AppError,
    BadRequest,
    ErrorDetail,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)

__all__ = ["from_django_exception", "validation_details"]


def from_django_exception(exc: BaseException) -> BaseException:
    """Map Django's request exceptions to catalogue errors; anything else is returned as is.

    ``RequestDataTooBig`` is a ``SuspiciousOperation`` that Django answers with 400; a body
    over the cap is ``413 PAYLOAD_TOO_LARGE`` here. Framework messages are replaced by the
    catalogue's, since some (``DisallowedHost``) quote request headers back. A database
    error caused by a client's value (too long, out of range, a NUL character) is ``400
    BAD_REQUEST``.
    """
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, PermissionDenied):
        return Forbidden()
    if isinstance(exc, ValidationError):
        return ValidationFailed(details=validation_details(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation | DjangoBadRequest | MultiPartParserError):
        return BadRequest()
    # A value the database refused (django.db.DataError, by SQLSTATE or MySQL errno).
    return bad_input_error(exc) or exc


def _message(error: ValidationError) -> str:
    params = error.params or {}
    if "value" in params:
        # Django's messages interpolate the submitted value ("'abc' is not a valid UUID").
        return "Invalid value."
    message = str(error.message)
    return message % params if params else message


def validation_details(exc: ValidationError) -> list[ErrorDetail]:
    """One detail per message of a Django ``ValidationError``, never echoing the value."""
    details: list[ErrorDetail] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = None if field == NON_FIELD_ERRORS else field
            details.extend(ErrorDetail(name, _message(e)) for e in errors)
    else:
        details.extend(ErrorDetail(None, _message(e)) for e in exc.error_list)
    return details
