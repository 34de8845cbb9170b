"""``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: DRF's exceptions as the catalogue's errors (a
``ValidationError`` one detail per field, never echoing the value), in the envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core import signals  # type: ignore[import-untyped]
from django.http import HttpResponse  # type: ignore[import-untyped]
from rest_framework import exceptions as drf  # type: ignore[import-untyped]
from rest_framework.settings import api_settings  # type: ignore[import-untyped]

from backendkit import errors
from backendkit.adapters.django._request import (
    django_request,
    error_response,
    from_django_exception,
)
from backendkit.validation._nested import nested_details
from backendkit.web import error_for_status

__all__ = ["BackendKitAPIException", "as_api_exception", "exception_handler", "validation_details"]

# DRF messages that quote the submitted value (or its type): replaced by fixed texts.
_ECHOING_CODES: Mapping[str, str] = {
    "invalid_choice": "Not a valid choice.",
    "does_not_exist": "Object does not exist.",
    "incorrect_type": "Incorrect type.",
    "not_a_list": "Expected a list of items.",
    "not_a_dict": "Expected a dictionary of items.",
}
# Exceptions that are one catalogue error whatever they say.
_FIXED: tuple[tuple[type[Exception], type[errors.AppError]], ...] = (
    (drf.NotFound, errors.NotFound),
    (drf.UnsupportedMediaType, errors.UnsupportedMediaType),
    (drf.ParseError, errors.BadRequest),
)


class BackendKitAPIException(drf.APIException):  # type: ignore[misc]
    """A DRF exception carrying a backendkit ``AppError``, so that DRF's own bookkeeping
    runs while [`exception_handler`][backendkit.adapters.drf.exception_handler] renders
    the original error."""

    def __init__(self, error: errors.AppError) -> None:
        self.error = error
        self.status_code = error.status
        super().__init__(detail=error.message, code=error.code.lower())


class _AuthenticationFailed(BackendKitAPIException, drf.AuthenticationFailed):  # type: ignore[misc]
    pass


class _Throttled(BackendKitAPIException, drf.Throttled):  # type: ignore[misc]
    def __init__(self, error: errors.AppError) -> None:
        super().__init__(error)
        self.wait = getattr(error, "retry_after", None)


def as_api_exception(error: errors.AppError) -> drf.APIException:
    """``error`` as the DRF exception DRF expects there: authentication errors as
    ``AuthenticationFailed`` (DRF resets the user), limits as ``Throttled``."""
    if isinstance(error, errors.Unauthenticated):
        return _AuthenticationFailed(error)
    if isinstance(error, errors.RateLimited):
        return _Throttled(error)
    return BackendKitAPIException(error)


def validation_details(exc: drf.ValidationError, request: Any = None) -> list[errors.ErrorDetail]:
    """A DRF ``ValidationError`` as field details (``items[2].qty``) that never echo what the
    client sent (DRF's quoting messages by code, others compared with ``request.data``)."""
    try:
        data = request.data if request is not None else None
    except Exception:  # the body itself failed to parse: nothing to compare with
        data = None
    unnamed = (api_settings.NON_FIELD_ERRORS_KEY, "__all__")
    return nested_details(exc.detail, data, unnamed=unnamed, fixed=_ECHOING_CODES)


def to_app_error(exc: BaseException, context: Mapping[str, Any]) -> BaseException:
    """The catalogue error for a DRF (or Django) exception; other exceptions unchanged."""
    if isinstance(exc, BackendKitAPIException):
        return exc.error
    for kinds, error in _FIXED:
        if isinstance(exc, kinds):
            return error()
    if isinstance(exc, drf.ValidationError):
        return errors.ValidationFailed(details=validation_details(exc, context.get("request")))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        if exc.status_code == 403:  # DRF's answer when no authenticator offers a challenge
            return errors.Forbidden()
        challenge = getattr(exc, "auth_header", None)  # the view's first authenticator's
        return errors.Unauthenticated(
            str(exc.detail) if isinstance(exc, drf.AuthenticationFailed) else None,
            headers={"WWW-Authenticate": challenge} if challenge else None,
        )
    if isinstance(exc, drf.PermissionDenied):
        return errors.Forbidden(str(exc.detail))  # permission classes write it for clients
    if isinstance(exc, drf.MethodNotAllowed):
        allowed = getattr(context.get("view"), "allowed_methods", None)
        return errors.MethodNotAllowed(allowed=list(allowed) if allowed else None)
    if isinstance(exc, drf.Throttled):
        return errors.RateLimited(retry_after=exc.wait)
    if isinstance(exc, drf.APIException):
        # A custom APIException: its 4xx text is written for clients (5xx text is dropped).
        text = exc.detail if isinstance(exc.detail, str) else None
        return error_for_status(exc.status_code, message=text)
    return from_django_exception(exc)  # AppErrors, Django's own, the database's refusals


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse:
    """DRF exception handler rendering the envelope (or problem+json) through the pipeline;
    anything else is a generic 500 after Django's ``got_request_exception`` signal (error
    trackers see it). An ``ATOMIC_REQUESTS`` view's database work is rolled back."""
    # Imported here: DRF imports the authentication classes (which import this module)
    # while rest_framework.views is still initializing.
    from rest_framework.views import set_rollback  # type: ignore[import-untyped]

    request = context.get("request")
    error = to_app_error(exc, context)
    if not isinstance(error, errors.AppError) and request is not None:
        signals.got_request_exception.send(sender=None, request=django_request(request))
    set_rollback()
    # The core's bytes whatever renderer the view negotiated, as the middleware renders.
    return error_response(request, error)
