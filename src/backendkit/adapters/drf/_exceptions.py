"""``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: every DRF error path in the backendkit envelope.

DRF's own exceptions map onto the error catalogue (``ValidationError`` ->
``VALIDATION_ERROR`` with one detail per field, never echoing the submitted value;
``NotAuthenticated`` -> ``UNAUTHENTICATED``; ``Throttled`` -> ``RATE_LIMITED`` with
``Retry-After``; ...); an ``AppError`` raised in a view keeps its own code; anything else is a
generic ``500`` whose traceback is logged, never returned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from backendkit._db_errors import bad_input_error
from backendkit._extras import require

require("rest_framework", "drf")

from django.core import signals  # type: ignore[import-untyped]
from django.core.exceptions import (  # type: ignore[import-untyped]
    PermissionDenied as DjangoPermissionDenied,
)
from django.http import Http404, HttpResponse  # type: ignore[import-untyped]
from rest_framework import exceptions as drf  # type: ignore[import-untyped]
from rest_framework.settings import api_settings  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._request import (
    django_request,
    get_cycle,
    to_django,
)
from backendkit.errors import (
    AppError,
    BadRequest,
    ErrorDetail,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from backendkit.web import error_for_status, render_error

__all__ = ["as_api_exception", "exception_handler"]

# DRF messages that quote the submitted value (or its type): replaced by fixed texts.
_ECHOING_CODES: Mapping[str, str] = {
    "invalid_choice": "Not a valid choice.",
    "does_not_exist": "Object does not exist.",
    "incorrect_type": "Incorrect type.",
    "not_a_list": "Expected a list of items.",
    "not_a_dict": "Expected a dictionary of items.",
}
_GENERIC = "Invalid value."


class BackendKitAPIException(drf.APIException):  # type: ignore[misc]
    """A DRF exception carrying a backendkit ``AppError``.

    Raised by the authentication, throttle and parser classes so DRF's own bookkeeping
    (``_not_authenticated``, the ``WWW-Authenticate`` header) runs, while
    [`exception_handler`][backendkit.adapters.drf.exception_handler] renders the original
    error with its own code, message and headers.
    """

    def __init__(self, error: AppError) -> None:
        self.error = error
        self.status_code = error.status
        super().__init__(detail=error.message, code=error.code.lower())


class _AuthenticationFailed(BackendKitAPIException, drf.AuthenticationFailed):  # type: ignore[misc]
    pass


class _Throttled(BackendKitAPIException, drf.Throttled):  # type: ignore[misc]
    def __init__(self, error: AppError) -> None:
        super().__init__(error)
        self.wait = getattr(error, "retry_after", None)


def as_api_exception(error: AppError) -> drf.APIException:
    """Wrap ``error`` in the DRF exception class DRF expects at that point.

    Authentication errors become an ``AuthenticationFailed`` (so DRF resets the request's
    user), rate-limit errors a ``Throttled``; the handler unwraps the original.
    """
    if isinstance(error, Unauthenticated):
        return _AuthenticationFailed(error)
    if isinstance(error, RateLimited):
        return _Throttled(error)
    return BackendKitAPIException(error)


def _path(parts: tuple[str | int, ...]) -> str | None:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or None


def _walk(detail: Any, parts: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, "__all__"):
                yield from _walk(value, parts)
            else:
                # ListField / many=True errors are keyed by the item's index.
                yield from _walk(value, (*parts, key if isinstance(key, int) else str(key)))
    elif isinstance(detail, list | tuple):
        if all(isinstance(item, str) for item in detail):
            for item in detail:
                yield parts, item
        else:
            for index, item in enumerate(detail):
                if item:  # DRF uses {} for list items that were fine
                    yield from _walk(item, (*parts, index))
    else:
        yield parts, detail


def _submitted(data: Any, parts: tuple[str | int, ...]) -> Any:
    value = data
    for part in parts:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _echoes(message: str, value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
        return False
    text = str(value)
    return bool(text) and text in message


def validation_details(exc: drf.ValidationError, request: Any = None) -> list[ErrorDetail]:
    """Flatten a DRF ``ValidationError`` into field details (``items[2].qty``).

    Messages that quote what the client sent are replaced: the known DRF ones by fixed
    texts, and any other (a custom validator's) that contains the submitted value by
    ``"Invalid value."``.
    """
    data: Any = None
    if request is not None:
        try:
            data = request.data
        except Exception:  # the body itself failed to parse: there is nothing to compare
            data = None
    details: list[ErrorDetail] = []
    for parts, item in _walk(exc.detail, ()):
        code = getattr(item, "code", None)
        message = _ECHOING_CODES.get(code) if isinstance(code, str) else None
        if message is None:
            message = str(item)
            if data is not None and _echoes(message, _submitted(data, parts)):
                message = _GENERIC
        details.append(ErrorDetail(_path(parts), message))
    return details


def _allowed(context: Mapping[str, Any]) -> list[str] | None:
    view = context.get("view")
    allowed = getattr(view, "allowed_methods", None)
    return list(allowed) if allowed else None


def to_app_error(exc: BaseException, context: Mapping[str, Any]) -> BaseException:
    """The catalogue error for a DRF (or Django) exception; other exceptions unchanged."""
    if isinstance(exc, BackendKitAPIException):
        return exc.error
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, Http404 | drf.NotFound):
        return NotFound()
    if isinstance(exc, drf.ValidationError):
        return ValidationFailed(details=validation_details(exc, context.get("request")))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        if exc.status_code == 403:  # DRF's answer when no class gives WWW-Authenticate
            return Forbidden()
        # The view's first authenticator names the scheme (Bearer for ours, Basic...).
        challenge = getattr(exc, "auth_header", None)
        return Unauthenticated(
            str(exc.detail) if isinstance(exc, drf.AuthenticationFailed) else None,
            headers={"WWW-Authenticate": challenge} if challenge else None,
        )
    if isinstance(exc, DjangoPermissionDenied):
        return Forbidden()
    if isinstance(exc, drf.PermissionDenied):
        # Permission classes set client-facing messages on purpose; keep them.
        return Forbidden(str(exc.detail))
    if isinstance(exc, drf.MethodNotAllowed):
        return MethodNotAllowed(allowed=_allowed(context))
    if isinstance(exc, drf.UnsupportedMediaType):
        return UnsupportedMediaType()
    if isinstance(exc, drf.Throttled):
        return RateLimited(retry_after=exc.wait)
    if isinstance(exc, drf.ParseError):
        return BadRequest()
    if isinstance(exc, drf.APIException):
        # A custom APIException: its 4xx text is written for clients (5xx text is dropped).
        text = exc.detail if isinstance(exc.detail, str) else None
        return error_for_status(exc.status_code, message=text)
    return bad_input_error(exc) or exc  # a value the database refused: 400, else the 500


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponse:
    """DRF exception handler rendering the backendkit envelope (or problem+json).

    Set it in ``settings.py``:

    ```python
    REST_FRAMEWORK = {
        "EXCEPTION_HANDLER": "backendkit.adapters.drf.exception_handler",
    }
    ```

    Unhandled exceptions are answered here too (a generic 500; the traceback is logged
    with the request id), after Django's ``got_request_exception`` signal is sent so error
    trackers still see them. Database work of an ``ATOMIC_REQUESTS`` view is rolled back.
    """
    # Imported here: DRF imports the authentication classes (which import this module)
    # while rest_framework.views is still initializing.
    from rest_framework.views import set_rollback  # type: ignore[import-untyped]

    request = context.get("request")
    error = to_app_error(exc, context)
    if not isinstance(error, AppError) and request is not None:
        signals.got_request_exception.send(sender=None, request=django_request(request))
    set_rollback()
    cycle = get_cycle(request) if request is not None else None
    kit = get_kit()
    rendered = render_error(
        error,
        request_id=cycle.request_id if cycle is not None else None,
        problem=kit.problem,
        user_id=cycle.user_id if cycle is not None else None,
        retry_after=kit.settings.retry_after,
    )
    # A plain HttpResponse: the body is the core's bytes, identical to what the Django
    # middleware renders, whatever renderer the view negotiated.
    return to_django(rendered)
