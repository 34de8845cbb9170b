"""``BackendKitMiddleware``: Django requests through the [`Pipeline`][backendkit.web.Pipeline],
in sync (WSGI) and async (ASGI) mode; what it does is listed on the Django integration page."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core import signals  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponseBase  # type: ignore[import-untyped]
from django.urls import is_valid_path  # type: ignore[import-untyped]

from backendkit import web
from backendkit.adapters.django import _request as req
from backendkit.adapters.django._conf import current_kit, current_pipeline
from backendkit.adapters.django.views import csrf_failure
from backendkit.errors import AppError, NotFound
from backendkit.web._streams import astream_in_request, chunked_body, stream_in_request

__all__ = ["DEFAULT_LIMIT_EXEMPT", "BackendKitMiddleware"]

#: View attribute: a truthy value exempts the view from the default limit (``health_view``).
DEFAULT_LIMIT_EXEMPT = "backendkit_default_limit_exempt"
_PENDING = "_backendkit_default_limit_pending"  # the default limit is still to be charged
_VIEW = "_backendkit_view"  # the resolved view, to recognise a CSRF refusal
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"


class BackendKitMiddleware:
    """The one middleware backendkit needs; list it first in ``MIDDLEWARE`` so it sees
    every response, those of the other middleware included."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        # The server builds the chain when it loads the app, before any request: a kit
        # that cannot do what its settings ask stops the start here.
        kit = current_kit()
        kit.check("async" if self.async_mode and kit.async_limiter is not None else "sync")
        if self.async_mode:
            markcoroutinefunction(self)
            # Django would run a sync process_view in a thread: it gets the coroutine twin.
            self.process_view = self._aprocess_view  # type: ignore[method-assign]

    def __call__(self, request: HttpRequest) -> Any:
        """Handle one request (a coroutine in async mode)."""
        if self.async_mode:
            return self._acall(request)
        cycle, response = _start(request)
        if response is None:
            response = self.get_response(request)
            if getattr(request, _PENDING, False):
                response = _unless_refused(response, self.process_view(request, None))
        return _finish(request, response, cycle)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        cycle, response = _start(request)
        if response is None:
            response = await self.get_response(request)
            if getattr(request, _PENDING, False):
                response = _unless_refused(response, await self._aprocess_view(request, None))
        return _finish(request, response, cycle)

    def process_view(self, request: HttpRequest, view: Any, *_: Any) -> HttpResponseBase | None:
        """Charge the default limit once the view is known (a view-less request: after it)."""
        if _charge_due(request, view):
            try:
                pipeline, cycle, facts = req.bind(request)
                pipeline.charge_default(cycle, facts)
            except Exception as exc:
                return req.error_response(request, exc)
        return None

    async def _aprocess_view(self, request: HttpRequest, view: Any, *_: Any) -> Any:
        if _charge_due(request, view):
            try:
                pipeline, cycle, facts = req.bind(request)
                await pipeline.acharge_default(cycle, facts)
            except Exception as exc:
                return req.error_response(request, exc)
        return None

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        """Render a view's exception into the envelope (API paths, or any ``AppError``)."""
        if not isinstance(exception, AppError) and not current_kit().is_api_path(request.path_info):
            return None  # Django's own handling for the HTML side of the site
        mapped = req.from_django_exception(exception)
        if not isinstance(mapped, AppError):
            # Django's hook for unhandled errors (error trackers, the test client).
            signals.got_request_exception.send(sender=type(self), request=request)
        return req.error_response(request, mapped)


def _start(request: HttpRequest) -> tuple[web.RequestCycle, HttpResponseBase | None]:
    pipeline = current_pipeline()
    meta = request.META
    cycle = pipeline.start(
        method=request.method or "GET",
        path=request.path,
        request_id=meta.get("HTTP_X_REQUEST_ID"),
        headers=functools.partial(req.meta_header, meta),
    )
    setattr(request, req.CYCLE_ATTR, cycle)
    if not pipeline.kit.is_api_path(request.path_info):
        return cycle, None
    setattr(request, _PENDING, bool(pipeline.kit.default_rate_limit))
    # Under Django's own cap too (its RequestDataTooBig would be a 400, not a 413), but for
    # uploads: Django streams them to disk, its memory cap is not about them.
    multipart = meta.get("CONTENT_TYPE", "").startswith("multipart/")
    cap = None if multipart else getattr(django_settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    limit = pipeline.kit.max_body_bytes
    try:
        limit = min(limit, int(cap)) if cap is not None else limit
        web.check_content_length(meta.get("CONTENT_LENGTH"), limit)
        body = chunked_body(meta, request.read, limit=limit)
        if body is not None:  # Django reads its private _stream (DRF's tests rely on it too)
            request._stream, request._read_started = io.BytesIO(body), False
        if _append_slash_would_swallow(request):
            raise NotFound()
    except Exception as exc:
        return cycle, req.error_response(request, req.from_django_exception(exc))
    return cycle, None


def _charge_due(request: HttpRequest, view: Any) -> bool:
    """Whether to charge now; the pending charge is taken either way (once a request)."""
    setattr(request, _VIEW, view)
    pending = getattr(request, _PENDING, False)
    setattr(request, _PENDING, False)
    return pending and not getattr(view, DEFAULT_LIMIT_EXEMPT, False)


def _unless_refused(response: HttpResponseBase, refused: HttpResponseBase | None) -> Any:
    if refused is not None:
        response.close()
    return refused or response


def _finish(request: HttpRequest, response: Any, cycle: web.RequestCycle) -> HttpResponseBase:
    if response.status_code >= 400 and current_kit().is_api_path(request.path_info):
        response = _envelope(request, response)
    if cycle.user_id is None:
        cycle.user_id = req.session_user_id(request)  # only a user the view loaded anyway
    for name, value in cycle.response_headers(response.headers.keys()).items():
        response[name] = value
    if response.get("Content-Type", "").lower() == "application/json":
        response["Content-Type"] = web.JSON_CONTENT_TYPE
    cycle.status = response.status_code
    if cycle.observer is not None:
        cycle.route = req.route_template(request)
    if not response.streaming:
        cycle.finish()
        return response
    stream = astream_in_request if getattr(response, "is_async", False) else stream_in_request
    response.streaming_content = stream(response.streaming_content, cycle)
    return response


def _envelope(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Django's own error pages (route 404, ``DEBUG`` pages, 405, CSRF 403) as envelopes."""
    if web.is_json_media_type(response.get("Content-Type")):
        return response  # an envelope already, or the view's own JSON error
    response.close()
    if response.status_code == 403 and _csrf_refused(request):
        return csrf_failure(request)  # the answer CSRF_FAILURE_VIEW would give
    allow = response.get("Allow")
    headers = {"Allow": allow} if allow else None
    return req.error_response(request, web.error_for_status(response.status_code, headers=headers))


def _csrf_refused(request: HttpRequest) -> bool:
    """Whether a 403 came from ``CsrfViewMiddleware``, whose failure view gives no sign: it
    marks every request it accepts and skips ``csrf_exempt`` views, so an unsafe request to
    a resolved, non-exempt view it never accepted was refused by it."""
    view = getattr(request, _VIEW, None)
    return (
        view is not None
        and request.method in _UNSAFE
        and not getattr(view, "csrf_exempt", False)
        and not getattr(request, "csrf_processing_done", False)
        and _CSRF_MIDDLEWARE in (getattr(django_settings, "MIDDLEWARE", None) or ())
    )


def _append_slash_would_swallow(request: HttpRequest) -> bool:
    """Whether ``CommonMiddleware`` would redirect this unsafe request to ``path/``: the
    client would repeat it as a GET, the body lost (``DEBUG`` raises instead)."""
    path = request.path_info
    if request.method not in _UNSAFE or path.endswith("/"):
        return False
    urlconf = getattr(request, "urlconf", None)
    if not getattr(django_settings, "APPEND_SLASH", False) or is_valid_path(path, urlconf):
        return False
    match = is_valid_path(path + "/", urlconf)
    return bool(match) and getattr(match.func, "should_append_slash", True)
