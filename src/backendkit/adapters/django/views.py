"""Error views for ``handler400``/``handler403``/``handler404``/``handler500`` and CSRF failures.

Django calls these only with ``DEBUG`` off (with ``DEBUG`` on it renders its technical
pages, which ``BackendKitMiddleware`` rewrites into the envelope for API paths). For API
paths they answer with the envelope; for every other path they fall back to Django's own
views, so the admin and HTML pages keep their templates.

```python
# urls.py (the root URLconf)
from backendkit.adapters.django import views as backendkit_views

handler400 = backendkit_views.bad_request
handler403 = backendkit_views.permission_denied
handler404 = backendkit_views.page_not_found
handler500 = backendkit_views.server_error

# settings.py
CSRF_FAILURE_VIEW = "backendkit.adapters.django.views.csrf_failure"
```
"""

from __future__ import annotations

import sys

from backendkit._extras import require

require("django", "django")

from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.views import (  # type: ignore[import-untyped]
    csrf as django_csrf,
)
from django.views import defaults

from backendkit.adapters.django._conf import get_kit, get_options
from backendkit.adapters.django._errors import from_django_exception
from backendkit.adapters.django._request import error_to_django
from backendkit.errors import AppError, ErrorDetail, Forbidden, InternalError
from backendkit.web import error_for_status

__all__ = [
    "bad_request",
    "csrf_failure",
    "page_not_found",
    "permission_denied",
    "server_error",
]


def _api(request: HttpRequest) -> bool:
    return get_options().is_api_path(request.path_info)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: ``BAD_REQUEST`` (``DisallowedHost`` and other suspicious requests).

    ``RequestDataTooBig`` (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) is answered with
    ``413 PAYLOAD_TOO_LARGE`` rather than Django's 400.
    """
    if not _api(request):
        return defaults.bad_request(request, exception)
    mapped = from_django_exception(exception) if exception is not None else None
    return error_to_django(request, _client_error(mapped, 400), problem=get_kit().problem)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler403``: ``FORBIDDEN``."""
    if not _api(request):
        return defaults.permission_denied(request, exception)
    return error_to_django(request, Forbidden(), problem=get_kit().problem)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: ``NOT_FOUND`` (route misses and ``Http404`` raised outside views)."""
    if not _api(request):
        return defaults.page_not_found(request, exception)
    return error_to_django(request, _client_error(None, 404), problem=get_kit().problem)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a generic ``INTERNAL_ERROR``; the traceback goes to the log only."""
    if not _api(request):
        return defaults.server_error(request)
    # Django calls handler500 inside its ``except`` block: the error is still current.
    current = sys.exc_info()[1]
    return error_to_django(
        request, current if current is not None else InternalError(), problem=get_kit().problem
    )


#: The one CSRF detail: Django's reasons are not echoed (one quotes the ``Origin`` header).
CSRF_DETAIL = (
    "CSRF cookie or token missing or incorrect: send Django's CSRF cookie and its token in "
    "the X-CSRFToken header, or authenticate with a token (token-authenticated views are "
    "exempt)"
)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: ``403 FORBIDDEN`` "CSRF verification failed", detail on ``csrf``.

    ``BackendKitMiddleware`` answers the same for a CSRF rejection on an API path even when
    ``CSRF_FAILURE_VIEW`` is Django's default, so setting it is optional. Django's reason
    is not echoed: one of them quotes the request's ``Origin`` header.
    """
    if not _api(request):
        return django_csrf.csrf_failure(request, reason)
    error = Forbidden("CSRF verification failed", details=[ErrorDetail("csrf", CSRF_DETAIL)])
    return error_to_django(request, error, problem=get_kit().problem)


def _client_error(mapped: BaseException | None, status: int) -> BaseException:
    if isinstance(mapped, AppError) and mapped.status < 500:
        return mapped
    return error_for_status(status)
