"""``BackendKitMiddleware``: request id, envelope on every error path, limits, headers, log.

Put it first in ``MIDDLEWARE`` so that it sees every response, including those other
middleware produce (``CommonMiddleware``'s redirects, ``CsrfViewMiddleware``'s 403,
``SecurityMiddleware``'s ``DisallowedHost`` 400). It runs in sync mode under WSGI and in
async mode under ASGI (Django picks; both paths share every decision below).

For every request it:

- accepts a safe incoming ``X-Request-ID`` or makes one, binds it (with method, path and,
  once known, the user id) into the log context, and echoes it on the response;
- adds ``X-Content-Type-Options: nosniff``, ``Cache-Control: no-store`` on authenticated
  responses and states ``charset=utf-8`` on JSON responses;
- logs one ``request_completed`` event (for a streaming response: when the stream ends).

For requests under an API prefix (``BACKENDKIT["API_PREFIXES"]``, default ``/api/``) it also:

- refuses a declared ``Content-Length`` over the cap with ``413`` before any byte is read;
- answers an unsafe request that ``APPEND_SLASH`` would redirect (and so turn into a GET)
  with a clean ``404`` instead;
- charges the app's default rate limit (``RATE_LIMIT_DEFAULT``) per client address, once
  the view is known and before any per-view rule (an app-wide budget, as in the Flask and
  FastAPI adapters; ``health_view`` is exempt, a route miss is charged too), and adds the
  rate-limit headers;
- renders exceptions raised by views into the envelope (``AppError`` as it is, Django's
  ``Http404``/``PermissionDenied``/``RequestDataTooBig``/``SuspiciousOperation`` as 404/403/
  413/400, anything else as a generic 500 with the traceback logged);
- rewrites the bare error responses Django builds itself (route 404 and ``DEBUG`` pages,
  ``HttpResponseNotAllowed`` 405, CSRF 403) into the envelope.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from backendkit._extras import require

require("django", "django")

from asgiref.sync import (
    iscoroutinefunction,
    markcoroutinefunction,
    sync_to_async,
)
from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core import signals  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponseBase  # type: ignore[import-untyped]
from django.urls import is_valid_path  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit, get_options
from backendkit.adapters.django._errors import from_django_exception
from backendkit.adapters.django._request import (
    buffer_chunked_body,
    client_key,
    error_to_django,
    get_cycle,
    session_user_id,
    set_cycle,
)
from backendkit.adapters.django.views import csrf_failure
from backendkit.errors import AppError, ConfigurationError, NotFound
from backendkit.logging import bind_request_context, clear_request_context
from backendkit.web import (
    JSON_CONTENT_TYPE,
    RequestCycle,
    WebKit,
    aenforce_limit,
    check_content_length,
    enforce_limit,
    error_for_status,
    is_json_media_type,
    limit_key,
    route_rule,
)

if TYPE_CHECKING:
    from backendkit.ratelimit import RateLimiter, Rule

__all__ = ["BackendKitMiddleware"]

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_MULTIPART = "multipart/"
_DEFAULT_RULE = "default"
#: Request attribute: the default limit is still to be charged for this request.
_PENDING_CHARGE = "_backendkit_default_limit_pending"
# request attribute: the resolved view, noted in process_view (to recognise a CSRF refusal).
_VIEW = "_backendkit_view"
_CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
#: View attribute: a truthy value exempts the view from the default limit (health_view).
DEFAULT_LIMIT_EXEMPT = "backendkit_default_limit_exempt"


class BackendKitMiddleware:
    """The one middleware backendkit needs; list it first in ``MIDDLEWARE``.

    Example:
        ```python
        MIDDLEWARE = [
            "backendkit.adapters.django.BackendKitMiddleware",
            "django.middleware.security.SecurityMiddleware",
            # ...
        ]
        ```
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        # Django builds the middleware chain when the server loads the app (the WSGI or
        # ASGI handler), before any request: a kit that cannot do what its settings ask
        # (a default limit without a limiter) stops the start here. In async mode the
        # async limiter serves, else the sync one.
        kit = get_kit()
        kit.check("async" if self.async_mode and kit.async_limiter is not None else "sync")
        if self.async_mode:
            markcoroutinefunction(self)
            # Django runs a sync process_view in a worker thread under ASGI: give it the
            # coroutine twin instead.
            self.process_view = self._aprocess_view  # type: ignore[method-assign]

    # -- request / response -------------------------------------------------------------

    def __call__(self, request: HttpRequest) -> Any:
        """Handle one request (returns a coroutine in async mode)."""
        if self.async_mode:
            return self.__acall__(request)
        kit, cycle, api = self._start(request)
        try:
            self._before(request, kit, api)
            response = self.get_response(request)
            if _take_pending_charge(request):
                try:
                    _charge_default(request, kit, cycle)
                except Exception:
                    response.close()
                    raise
            response = self._after(request, response, api)
        except Exception as exc:  # our own steps; Django converts the inner chain's errors
            response = error_to_django(request, from_django_exception(exc), problem=kit.problem)
        return self._finish(request, response, cycle)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        """Async twin of ``__call__``; every decision is shared."""
        kit, cycle, api = self._start(request)
        try:
            self._before(request, kit, api)
            response = await self.get_response(request)
            if _take_pending_charge(request):
                try:
                    await _acharge_default(request, kit, cycle)
                except Exception:
                    response.close()
                    raise
            response = self._after(request, response, api)
        except Exception as exc:
            response = error_to_django(request, from_django_exception(exc), problem=kit.problem)
        return self._finish(request, response, cycle)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        """Charge the default limit once the view is known (``health_view`` is exempt).

        A request that never reaches a view (a route miss, an answer from another
        middleware) is charged when its response comes back, so scanning costs budget too.
        """
        setattr(request, _VIEW, view)
        if not _charge_due(request, view):
            return None
        kit, cycle = get_kit(), _cycle_of(request)
        try:
            _charge_default(request, kit, cycle)
        except Exception as exc:
            return error_to_django(request, from_django_exception(exc), problem=kit.problem)
        return None

    async def _aprocess_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        """Async twin of ``process_view`` (the one Django calls under ASGI)."""
        setattr(request, _VIEW, view)
        if not _charge_due(request, view):
            return None
        kit, cycle = get_kit(), _cycle_of(request)
        try:
            await _acharge_default(request, kit, cycle)
        except Exception as exc:
            return error_to_django(request, from_django_exception(exc), problem=kit.problem)
        return None

    def _start(self, request: HttpRequest) -> tuple[WebKit, RequestCycle, bool]:
        kit = get_kit()
        cycle = RequestCycle.start(
            method=request.method or "GET",
            path=request.path,
            request_id_header=request.META.get("HTTP_X_REQUEST_ID"),
            clock=kit.clock,
        )
        set_cycle(request, cycle)
        api = get_options().is_api_path(request.path_info)
        if api and kit.default_rate_limit:
            setattr(request, _PENDING_CHARGE, True)
        return kit, cycle, api

    def _before(self, request: HttpRequest, kit: WebKit, api: bool) -> None:
        if not api:
            return
        limit = _body_limit(request, kit)
        check_content_length(request.META.get("CONTENT_LENGTH"), limit)
        buffer_chunked_body(request, limit)
        if _append_slash_would_swallow(request):
            raise NotFound()

    def _after(self, request: HttpRequest, response: HttpResponseBase, api: bool) -> Any:
        if not api or response.status_code < 400:
            return response
        if is_json_media_type(response.get("Content-Type")):
            return response  # already an envelope, or the view's own JSON error
        if response.status_code == 403 and _csrf_refused(request):
            response.close()
            return csrf_failure(request)  # the same answer as with CSRF_FAILURE_VIEW set
        allow = response.get("Allow")
        error = error_for_status(response.status_code, headers={"Allow": allow} if allow else None)
        response.close()
        return error_to_django(request, error, problem=get_kit().problem)

    def _finish(
        self, request: HttpRequest, response: HttpResponseBase, cycle: RequestCycle
    ) -> HttpResponseBase:
        if cycle.user_id is None:
            # Log a session user's id, without loading the user just for the log.
            cycle.user_id = session_user_id(request)
        for name, value in cycle.response_headers(response.headers.keys()).items():
            response[name] = value
        content_type = response.get("Content-Type", "")
        if content_type.lower() == "application/json":
            response["Content-Type"] = JSON_CONTENT_TYPE
        if response.streaming:
            _finish_when_streamed(response, cycle)
        else:
            cycle.finish(response.status_code)
        return response

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        """Render a view's exception into the envelope (API paths, or any ``AppError``)."""
        if not isinstance(exception, AppError) and not get_options().is_api_path(request.path_info):
            return None  # Django's own handling for the HTML side of the site
        mapped = from_django_exception(exception)
        if not isinstance(mapped, AppError):
            # Keep Django's hook for unhandled errors (error trackers, the test client).
            signals.got_request_exception.send(sender=type(self), request=request)
        return error_to_django(request, mapped, problem=get_kit().problem)


def _body_limit(request: HttpRequest, kit: WebKit) -> int:
    limit = kit.max_body_bytes
    django_cap = getattr(django_settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)
    content_type = request.META.get("CONTENT_TYPE", "")
    if django_cap is not None and not content_type.startswith(_MULTIPART):
        # Django would raise RequestDataTooBig (a 400) past its own cap: answer 413 up front.
        limit = min(limit, int(django_cap))
    return limit


def _append_slash_would_swallow(request: HttpRequest) -> bool:
    """True when ``CommonMiddleware`` would redirect this unsafe request to ``path/``.

    A 301 makes clients repeat a POST as a GET (the body is lost), and with ``DEBUG`` on
    Django raises a ``RuntimeError`` instead; the route does not exist at this path, so the
    answer is a 404.
    """
    if request.method not in _UNSAFE_METHODS or request.path_info.endswith("/"):
        return False
    if not getattr(django_settings, "APPEND_SLASH", False):
        return False
    urlconf = getattr(request, "urlconf", None)
    if is_valid_path(request.path_info, urlconf):
        return False
    match = is_valid_path(request.path_info + "/", urlconf)
    return bool(match) and getattr(match.func, "should_append_slash", True)


def _csrf_refused(request: HttpRequest) -> bool:
    """Whether a 403 came from ``CsrfViewMiddleware`` (Django's failure view gives no sign).

    That middleware marks every request it accepts (``csrf_processing_done``) and skips
    ``csrf_exempt`` views: an unsafe request whose view was resolved, is not exempt, and was
    never accepted got its 403 from the CSRF check, before its view could run.
    """
    view = getattr(request, _VIEW, None)
    return (
        view is not None
        and request.method in _UNSAFE_METHODS
        and not getattr(view, "csrf_exempt", False)
        and not getattr(request, "csrf_processing_done", False)
        and _CSRF_MIDDLEWARE in (getattr(django_settings, "MIDDLEWARE", None) or ())
    )


def _take_pending_charge(request: HttpRequest) -> bool:
    """True once per request that still owes the default limit its hit (then False)."""
    if getattr(request, _PENDING_CHARGE, False):
        setattr(request, _PENDING_CHARGE, False)
        return True
    return False


def _charge_due(request: HttpRequest, view: Any) -> bool:
    """Whether ``view`` must be charged now (the pending charge is taken either way)."""
    return _take_pending_charge(request) and not getattr(view, DEFAULT_LIMIT_EXEMPT, False)


def _cycle_of(request: HttpRequest) -> RequestCycle:
    cycle = get_cycle(request)
    assert cycle is not None  # a pending charge is only set where the cycle is
    return cycle


def _charge_default(request: HttpRequest, kit: WebKit, cycle: RequestCycle) -> None:
    rule, key = _default_rule(kit), _client(request, kit)
    enforce_limit(_sync_limiter(kit), rule, key, cycle)


async def _acharge_default(request: HttpRequest, kit: WebKit, cycle: RequestCycle) -> None:
    rule, key = _default_rule(kit), _client(request, kit)
    if kit.async_limiter is not None:
        await aenforce_limit(kit.async_limiter, rule, key, cycle)
    else:
        # The sync limiter may do network I/O: off the event loop.
        await sync_to_async(enforce_limit, thread_sensitive=False)(
            _sync_limiter(kit), rule, key, cycle
        )


def _default_rule(kit: WebKit) -> Rule:
    return route_rule(kit.default_rate_limit or "", _DEFAULT_RULE)


def _sync_limiter(kit: WebKit) -> RateLimiter:
    if kit.limiter is None:
        raise ConfigurationError("RATE_LIMIT_DEFAULT needs a limiter in the WebKit")
    return kit.limiter


def _client(request: HttpRequest, kit: WebKit) -> str:
    """The default rule's key: the client address behind the trusted proxies."""
    return limit_key("ip", client_ip=client_key(request, kit), user_id=None)


def _finish_when_streamed(response: HttpResponseBase, cycle: RequestCycle) -> None:
    """Keep the request's log context while the body streams; log when it ends."""
    context = contextvars.copy_context()
    # The thread (or task) goes back to the server now; the next request must not inherit.
    clear_request_context()
    status = response.status_code
    if getattr(response, "is_async", False):
        response.streaming_content = _astream(response.streaming_content, cycle, status)
    else:
        response.streaming_content = _stream(response.streaming_content, context, cycle, status)


def _stream(
    chunks: Iterator[bytes], context: contextvars.Context, cycle: RequestCycle, status: int
) -> Iterator[bytes]:
    try:
        while True:
            try:
                chunk = context.run(next, chunks)
            except StopIteration:
                return
            yield chunk
    finally:
        context.run(cycle.finish, status)


async def _astream(
    chunks: AsyncIterator[bytes], cycle: RequestCycle, status: int
) -> AsyncIterator[bytes]:
    # One ASGI request is one task: binding the request's values again here is enough.
    bind_request_context(request_id=cycle.request_id, method=cycle.method, path=cycle.path)
    if cycle.user_id is not None:
        bind_request_context(user_id=cycle.user_id)
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        cycle.finish(status)
