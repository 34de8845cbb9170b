"""Error views for ``handler400``/``403``/``404``/``500`` of the root URLconf (and, optional,
``CSRF_FAILURE_VIEW``): API paths get the envelope, other paths Django's own page. With
``DEBUG`` on, ``BackendKitMiddleware`` rewrites Django's pages for API paths."""

from __future__ import annotations

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.views import csrf as django_csrf  # type: ignore[import-untyped]
from django.views import defaults

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.django._request import error_response, from_django_exception
from backendkit.errors import AppError, ErrorDetail, Forbidden, InternalError
from backendkit.web import error_for_status

__all__ = [
    "CSRF_DETAIL",
    "bad_request",
    "csrf_failure",
    "page_not_found",
    "permission_denied",
    "server_error",
]

#: The one CSRF detail: Django's reasons are not echoed (one quotes the ``Origin`` header).
CSRF_DETAIL = (
    "CSRF cookie or token missing or incorrect: send Django's CSRF cookie and its token in "
    "the X-CSRFToken header, or authenticate with a token (token-authenticated views are "
    "exempt)"
)


def _answer(request: HttpRequest, error: BaseException, page: Any, *args: Any) -> HttpResponse:
    """``error`` for an API path, else Django's own ``page``."""
    if current_kit().is_api_path(request.path_info):
        return error_response(request, error)
    return page(request, *args)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: ``BAD_REQUEST``; ``RequestDataTooBig`` is ``413 PAYLOAD_TOO_LARGE``."""
    error = from_django_exception(exception) if exception is not None else None
    if not isinstance(error, AppError) or error.status >= 500:
        error = error_for_status(400)
    return _answer(request, error, defaults.bad_request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: ``FORBIDDEN``."""
    return _answer(request, Forbidden(), defaults.permission_denied, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: ``NOT_FOUND`` (route misses, ``Http404`` raised outside views)."""
    return _answer(request, error_for_status(404), defaults.page_not_found, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a generic ``INTERNAL_ERROR``; the traceback goes to the log only."""
    # Django calls handler500 inside its ``except`` block: the error is still current.
    return _answer(request, sys.exc_info()[1] or InternalError(), defaults.server_error)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: ``403 FORBIDDEN`` "CSRF verification failed", detail on ``csrf``
    (``BackendKitMiddleware`` answers the same with Django's own failure view)."""
    error = Forbidden("CSRF verification failed", details=[ErrorDetail("csrf", CSRF_DETAIL)])
    return _answer(request, error, django_csrf.csrf_failure, reason)
