"""What the adapter reads and keeps on a Django (or DRF) request, and the responses it builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.utils.functional import empty  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit, current_pipeline
from backendkit.errors import Unauthenticated
from backendkit.responses import RenderedResponse
from backendkit.web import (
    JSON_CONTENT_TYPE,
    Pipeline,
    Principal,
    RequestCycle,
    WebKit,
    render_error,
)
from backendkit.web import client_key as core_client_key

__all__ = [
    "CYCLE_ATTR",
    "DjangoFacts",
    "bind",
    "client_key",
    "current_cycle",
    "django_request",
    "error_response",
    "get_principal",
    "get_request_id",
    "session_user_id",
    "to_django",
]

#: HttpRequest attribute holding the cycle ``BackendKitMiddleware`` started.
CYCLE_ATTR = "_backendkit_cycle"
# Without the middleware: a cycle that only collects the principal and the limit headers.
_DETACHED = "_backendkit_detached_cycle"
_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


def django_request(request: Any) -> HttpRequest:
    """The HttpRequest behind a DRF ``Request`` (or the request itself)."""
    inner = getattr(request, "_request", None)
    return inner if isinstance(inner, HttpRequest) else request


class DjangoFacts:
    """[`RequestFacts`][backendkit.web.RequestFacts] of a Django or DRF request (its
    ``native``, handed to key functions)."""

    __slots__ = ("http", "method", "native", "path", "peer")

    def __init__(self, request: Any) -> None:
        http = self.http = django_request(request)
        self.native, self.method, self.path = request, http.method or "GET", http.path_info
        self.peer: str | None = http.META.get("REMOTE_ADDR")

    def header(self, name: str) -> str | None:
        """A request header (the WSGI/ASGI handler joined repeats with commas)."""
        key = name.upper().replace("-", "_")
        return self.http.META.get(key if key in _UNPREFIXED else "HTTP_" + key)  # type: ignore[no-any-return]

    def cookies(self) -> Mapping[str, str]:
        """The request cookies."""
        return self.http.COOKIES  # type: ignore[no-any-return]

    def route(self) -> str:
        """The URL pattern (``api/users/<id>``), else the view's name, else the path."""
        match = self.http.resolver_match
        return (match.route or match.view_name) if match is not None else self.path  # type: ignore[no-any-return]

    def session_user(self) -> str | None:
        """The Django session (or DRF) user's id."""
        return session_user_id(self.native, load=True)


def current_cycle(request: Any) -> RequestCycle | None:
    """The [`RequestCycle`][backendkit.web.RequestCycle] ``BackendKitMiddleware`` started
    for ``request`` (Django or DRF), else ``None``."""
    return getattr(django_request(request), CYCLE_ATTR, None)


def bind(request: Any) -> tuple[Pipeline, RequestCycle, DjangoFacts]:
    """What a pipeline call needs for ``request`` (without the middleware, a cycle that
    only collects the caller and the limit headers)."""
    facts = DjangoFacts(request)
    cycle = getattr(facts.http, CYCLE_ATTR, None) or getattr(facts.http, _DETACHED, None)
    if cycle is None:
        cycle = RequestCycle(method=facts.method, path=facts.http.path, request_id="")
        setattr(facts.http, _DETACHED, cycle)
    return current_pipeline(), cycle, facts


def client_key(request: Any, kit: WebKit | None = None) -> str:
    """The client address the ``"ip"`` limits count ``request`` under (behind the trusted
    proxies; see [`client_key`][backendkit.web.client_key]); ``kit``: default, the current."""
    kit, facts = kit or current_kit(), DjangoFacts(request)
    return core_client_key(kit, peer=facts.peer, forwarded=facts.header(kit.ip_resolver.header))


def get_principal(request: Any) -> Principal:
    """The caller authenticated by ``require_auth``, the mixin or DRF's ``JWTAuthentication``.

    Raises:
        Unauthenticated: no caller was authenticated for this request.
    """
    principal = bind(request)[1].principal
    if principal is None:
        raise Unauthenticated()
    return principal


def get_request_id(request: Any) -> str | None:
    """The request id ``BackendKitMiddleware`` gave ``request`` (``None`` without it)."""
    cycle = current_cycle(request)
    return cycle.request_id if cycle is not None else None


def session_user_id(request: Any, *, load: bool = False) -> str | None:
    """The id of ``request.user`` when authenticated; unless ``load``, only when something
    already loaded the (lazy) user: the access log never costs a session query."""
    user = getattr(request, "user", None) if load else request.__dict__.get("user")
    if user is None or (not load and getattr(user, "_wrapped", None) is empty):
        return None
    pk = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
    return None if pk is None else str(pk)


def to_django(rendered: RenderedResponse) -> HttpResponse:
    """A Django response of a rendered core response (JSON states its charset)."""
    media_type = rendered.media_type
    content_type = JSON_CONTENT_TYPE if media_type == "application/json" else media_type
    response = HttpResponse(rendered.body, status=rendered.status, content_type=content_type)
    for name, value in rendered.headers.items():
        response[name] = value
    return response


def error_response(request: Any, exc: BaseException) -> HttpResponse:
    """``exc`` rendered by the pipeline (a generic 500 for anything not an ``AppError``)."""
    pipeline, cycle = current_pipeline(), current_cycle(request)
    if cycle is not None:
        return to_django(pipeline.render(cycle, exc))
    settings = pipeline.kit.settings  # no middleware: no request id
    problem = settings.error_format == "problem"
    return to_django(
        render_error(exc, request_id=None, problem=problem, retry_after=settings.retry_after)
    )
