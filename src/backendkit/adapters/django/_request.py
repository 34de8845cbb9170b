"""What the adapter reads of a Django (or DRF) request, and how it answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core import exceptions as django_errors  # type: ignore[import-untyped]
from django.http import Http404, HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.http.multipartparser import MultiPartParserError  # type: ignore[import-untyped]
from django.utils.functional import empty  # type: ignore[import-untyped]

from backendkit import errors, web
from backendkit._db_errors import bad_input_error
from backendkit.adapters.django._conf import current_kit, current_pipeline
from backendkit.listing import CursorPage, Page
from backendkit.responses import RenderedResponse, json_response, paginated, success
from backendkit.validation._nested import INVALID_VALUE, nested_details

__all__ = [
    "CYCLE_ATTR",
    "DjangoFacts",
    "bind",
    "client_key",
    "current_cycle",
    "django_request",
    "error_response",
    "from_django_exception",
    "get_principal",
    "get_request_id",
    "meta_header",
    "page_response",
    "route_template",
    "session_user_id",
    "success_response",
    "to_django",
]

#: HttpRequest attribute holding the cycle ``BackendKitMiddleware`` started.
CYCLE_ATTR = "_backendkit_cycle"
# Without the middleware: a cycle that only collects the caller and the limit headers.
_DETACHED = "_backendkit_detached_cycle"
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
# Django's exceptions that are one catalogue error whatever they say (DisallowedHost quotes
# a header); RequestDataTooBig, a 400 in Django, is a 413.
_FIXED: tuple[tuple[Any, type[errors.AppError]], ...] = (
    (Http404, errors.NotFound),
    (django_errors.PermissionDenied, errors.Forbidden),
    (django_errors.RequestDataTooBig, errors.PayloadTooLarge),
    (django_errors.SuspiciousOperation, errors.BadRequest),
    ((django_errors.BadRequest, MultiPartParserError), errors.BadRequest),
)


def django_request(request: Any) -> HttpRequest:
    """The HttpRequest behind a DRF ``Request`` (or the request itself)."""
    inner = getattr(request, "_request", None)
    return inner if isinstance(inner, HttpRequest) else request


class DjangoFacts:
    """[`RequestFacts`][backendkit.web.RequestFacts] of a Django or DRF request (``native``,
    what key functions get)."""

    __slots__ = ("http", "method", "native", "path", "peer")

    def __init__(self, request: Any) -> None:
        http = self.http = django_request(request)
        self.native, self.method, self.path = request, http.method or "GET", http.path_info
        self.peer: str | None = http.META.get("REMOTE_ADDR")

    def header(self, name: str) -> str | None:
        """A request header (the server joined repeats with commas)."""
        return meta_header(self.http.META, name)

    def cookies(self) -> Mapping[str, str]:
        """The request cookies."""
        return self.http.COOKIES  # type: ignore[no-any-return]

    def route(self) -> str:
        """The URL pattern (``api/users/<id>``), else the view's name, else the path."""
        match = self.http.resolver_match
        return (match.route or match.view_name) if match is not None else self.path  # type: ignore[no-any-return]

    def session_user(self) -> str | None:
        """The id of the Django session (or DRF) user."""
        return session_user_id(self.native, load=True)


def meta_header(meta: Mapping[str, Any], name: str) -> str | None:
    """The request header ``name`` (any case) from a request's ``META`` (the server joined
    repeats with commas)."""
    key = name.upper().replace("-", "_")
    return meta.get(key if key in _UNPREFIXED else "HTTP_" + key)


def route_template(request: HttpRequest) -> str | None:
    """The resolved URL pattern as a path (``/api/users/<int:pk>``), else the view's name;
    ``None`` when no pattern matched (request metrics label it ``unmatched``)."""
    match = request.resolver_match
    if match is None:
        return None
    return "/" + match.route if match.route else match.view_name  # type: ignore[no-any-return]


def current_cycle(request: Any) -> web.RequestCycle | None:
    """The [`RequestCycle`][backendkit.web.RequestCycle] ``BackendKitMiddleware`` started
    for ``request`` (Django or DRF), else ``None``."""
    return getattr(django_request(request), CYCLE_ATTR, None)


def bind(request: Any) -> tuple[web.Pipeline, web.RequestCycle, DjangoFacts]:
    """What a pipeline call needs for ``request``."""
    facts = DjangoFacts(request)
    cycle = getattr(facts.http, CYCLE_ATTR, None) or getattr(facts.http, _DETACHED, None)
    if cycle is None:
        cycle = web.RequestCycle(method=facts.method, path=facts.http.path, request_id="")
        setattr(facts.http, _DETACHED, cycle)
    return current_pipeline(), cycle, facts


def client_key(request: Any, kit: web.WebKit | None = None) -> str:
    """The client address the ``"ip"`` limits count ``request`` under (behind the trusted
    proxies, see [`client_key`][backendkit.web.client_key]); ``kit``: the current one."""
    kit, facts = kit or current_kit(), DjangoFacts(request)
    return web.client_key(kit, peer=facts.peer, forwarded=facts.header(kit.ip_resolver.header))


def get_principal(request: Any) -> web.Principal:
    """The caller ``require_auth``, the mixin or DRF's ``JWTAuthentication`` authenticated
    (``Unauthenticated`` when none was)."""
    principal = bind(request)[1].principal
    if principal is None:
        raise errors.Unauthenticated()
    return principal


def get_request_id(request: Any) -> str | None:
    """The request id ``BackendKitMiddleware`` gave ``request`` (``None`` without it)."""
    cycle = current_cycle(request)
    return cycle.request_id if cycle is not None else None


def session_user_id(request: Any, *, load: bool = False) -> str | None:
    """The id of an authenticated ``request.user``; unless ``load``, only of one already
    loaded (the access log never costs a session query)."""
    user = getattr(request, "user", None) if load else request.__dict__.get("user")
    if user is None or (not load and getattr(user, "_wrapped", None) is empty):
        return None
    pk = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    return None if pk is None else str(pk)


def to_django(rendered: RenderedResponse) -> HttpResponse:
    """A Django response of a rendered core response (JSON states its charset; no media
    type, no ``Content-Type``)."""
    media_type = rendered.media_type
    content_type = web.JSON_CONTENT_TYPE if media_type == "application/json" else media_type
    response = HttpResponse(rendered.body, status=rendered.status, content_type=content_type)
    if not media_type:
        del response["Content-Type"]
    for name, value in rendered.headers.items():
        response[name] = value
    return response


def error_response(request: Any, exc: BaseException) -> HttpResponse:
    """``exc`` rendered by the pipeline (a generic 500 for anything not an ``AppError``)."""
    return to_django(current_pipeline().render(current_cycle(request), exc))


def success_response(
    data: Any = None,
    *,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """``{"success": true, "data": ..., "message": ...}`` (pydantic models, dataclasses or
    plain values); ``204`` and ``304`` have no body."""
    if status in (204, 304):
        return to_django(RenderedResponse(status, dict(headers or {}), b"", ""))
    return to_django(json_response(success(data, message), status=status, headers=headers))


def page_response(
    page: Page[Any] | CursorPage[Any], *, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A page (or cursor page) in the page envelope, with its ``pagination`` block."""
    return to_django(json_response(paginated(page), headers=headers))


def from_django_exception(exc: BaseException) -> BaseException:
    """The catalogue error for one of Django's request exceptions (a value the database
    refused is 400); others as they are."""
    if isinstance(exc, errors.AppError):
        return exc
    if isinstance(exc, django_errors.ValidationError):
        return errors.ValidationFailed(details=_details(exc))
    fixed = next((error for kinds, error in _FIXED if isinstance(exc, kinds)), None)
    return fixed() if fixed is not None else bad_input_error(exc) or exc


def _details(exc: Any) -> list[errors.ErrorDetail]:
    """One detail per message of a ``ValidationError``, never echoing the value."""
    if hasattr(exc, "error_dict"):
        tree: Any = {field: list(map(_message, errs)) for field, errs in exc.error_dict.items()}
    else:
        tree = list(map(_message, exc.error_list))
    return nested_details(tree, unnamed=(django_errors.NON_FIELD_ERRORS,))


def _message(error: Any) -> str:
    params = error.params or {}
    if "value" in params:  # Django's messages quote the value ("'x' is not a valid UUID")
        return INVALID_VALUE
    message = str(error.message)
    return message % params if params else message
