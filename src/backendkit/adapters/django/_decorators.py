"""View decorators, class-based-view mixins and the health view: each check is a call of
the core's [`Pipeline`][backendkit.web.Pipeline], on sync and async views alike; failures
raise [`AppError`][backendkit.errors.AppError]s, which ``BackendKitMiddleware`` renders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db import connections  # type: ignore[import-untyped]
from django.http import HttpResponseNotModified  # type: ignore[import-untyped]
from pydantic import BaseModel
from typing_extensions import Unpack

from backendkit import web
from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.django._middleware import DEFAULT_LIMIT_EXEMPT
from backendkit.adapters.django._request import (
    bind,
    current_cycle,
    django_request,
    get_request_id,
    to_django,
)
from backendkit.errors import MethodNotAllowed
from backendkit.validation import path_validator
from backendkit.web._hooks import Hooks, hooked

__all__ = [
    "AuthRequiredMixin",
    "RateLimitMixin",
    "acharge_limit",
    "charge_limit",
    "health_view",
    "http_cache",
    "json_body",
    "metrics_view",
    "no_store",
    "path_params",
    "rate_limit",
    "read_json",
    "require_auth",
    "require_roles",
    "require_scopes",
]

V = TypeVar("V", bound=Callable[..., Any])


def _wrap(view: V, hooks: Hooks, *, csrf_exempt: bool = False) -> V:
    is_async = iscoroutinefunction(view)
    wrapped = hooked(view, hooks, is_async=is_async)
    if is_async:
        markcoroutinefunction(wrapped)
    if csrf_exempt:
        # Such views protect themselves: a token is no ambient credential (the cookie
        # transport checks its own CSRF token) and no cross-site form can send JSON.
        wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped


def _piped(method: str, *args: Any, principal: bool = False, **kw: Any) -> Hooks:
    """The pipeline's ``method`` and its async twin, before the view (``principal``: the
    result is ``request.principal``)."""

    def step(request: Any, _: Any) -> None:
        pipeline, cycle, facts = bind(request)
        result = getattr(pipeline, method)(cycle, facts, *args, **kw)
        if principal:
            request.principal = result

    async def astep(request: Any, _: Any) -> None:
        pipeline, cycle, facts = bind(request)
        result = await getattr(pipeline, "a" + method)(cycle, facts, *args, **kw)
        if principal:
            request.principal = result

    return Hooks(step, astep)


def _authorizing(roles: Iterable[str], scopes: Iterable[str]) -> Hooks:
    return _piped("authorize", roles=tuple(roles), scopes=tuple(scopes), principal=True)


def require_auth(
    view: V | None = None, *, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Any:
    """Require a valid access token ([`Pipeline.authorize`][backendkit.web.Pipeline.authorize]):
    401 without one, 403 without one of ``roles`` or all of ``scopes``. Bare or called. The
    caller is ``request.principal``; the view is exempt from ``CsrfViewMiddleware``."""
    decorate = functools.partial(_wrap, hooks=_authorizing(roles, scopes), csrf_exempt=True)
    return decorate(view) if view is not None else decorate


def require_roles(*roles: str) -> Callable[[V], V]:
    """Require authentication and at least one of ``roles`` (``@require_roles("admin")``)."""
    return cast(Callable[[V], V], require_auth(roles=roles))


def require_scopes(*scopes: str) -> Callable[[V], V]:
    """Require authentication and every one of ``scopes``."""
    return cast(Callable[[V], V], require_auth(scopes=scopes))


def rate_limit(limits: str, **options: Unpack[web.LimitOptions]) -> Callable[[V], V]:
    """Charge a [`RouteLimit`][backendkit.web.RouteLimit] of these options before the view
    (429 with ``Retry-After`` once spent). ``key="user"`` verifies the token first, else
    counts the Django session user, else the address; a bad limit or an ambiguous ``key``
    is a ``ConfigurationError`` (``ValueError``) here, at decoration."""
    return functools.partial(_wrap, hooks=_piped("charge", web.RouteLimit(limits, **options)))


def charge_limit(request: Any, limits: str, **options: Unpack[web.LimitOptions]) -> None:
    """Charge a limit from inside a view, as [`rate_limit`][backendkit.adapters.django.rate_limit]
    does; what only the view knows goes in ``bucket=`` (a login limit per address and email)."""
    pipeline, cycle, facts = bind(request)
    pipeline.charge(cycle, facts, web.RouteLimit(limits, **options))


async def acharge_limit(request: Any, limits: str, **options: Unpack[web.LimitOptions]) -> None:
    """Async twin of [`charge_limit`][backendkit.adapters.django.charge_limit]."""
    pipeline, cycle, facts = bind(request)
    await pipeline.acharge(cycle, facts, web.RouteLimit(limits, **options))


def read_json(request: Any, model: type[BaseModel] | None = None) -> Any:
    """The JSON body, read under ``MAX_BODY_BYTES`` and parsed by the core
    ([`parse_body`][backendkit.web.parse_body]: 415, 413, 400, ``VALIDATION_ERROR``)."""
    request, limit = django_request(request), current_kit().max_body_bytes
    length = web.check_content_length(request.META.get("CONTENT_LENGTH"), limit)
    body = web.read_body(request.read, limit=limit, content_length=length)
    content_type = request.META.get("CONTENT_TYPE")
    if model is None:
        return web.parse_body(body, content_type, max_bytes=limit)
    return web.parse_body(body, content_type, max_bytes=limit, model=model)


def json_body(model: type[BaseModel] | None = None, *, arg: str = "body") -> Callable[[V], V]:
    """Pass the JSON body ([`read_json`][backendkit.adapters.django.read_json], into
    ``model``) as the keyword ``arg``; the view is exempt from ``CsrfViewMiddleware``."""

    def step(request: Any, kwargs: dict[str, Any]) -> None:
        kwargs[arg] = read_json(request, model)

    return functools.partial(_wrap, hooks=Hooks(step), csrf_exempt=True)


def path_params(**types: Any) -> Callable[[V], V]:
    """Typed URL parameters captured as plain ``<name>``
    (``@path_params(note_id=int)`` for ``path("api/notes/<note_id>", ...)``): a malformed
    one is ``400 VALIDATION_ERROR`` naming it in camelCase, not Django's 404.

    Raises:
        ConfigurationError: a declared parameter is not in the URL pattern.
    """
    check = path_validator(types)

    def step(_: Any, kwargs: dict[str, Any]) -> None:
        kwargs.update(check(kwargs))

    return functools.partial(_wrap, hooks=Hooks(step))


def no_store(view: V) -> V:
    """Make the response ``Cache-Control: no-store`` unless it has its own (login, refresh)."""

    def after(_: Any, response: Any) -> Any:
        response.setdefault("Cache-Control", web.NO_STORE)
        return response

    return _wrap(view, Hooks(after=after))


def http_cache(*, etag: bool = True, **directives: Any) -> Callable[[V], V]:
    """``Cache-Control`` of the keywords of [`cache_control`][backendkit.web.cache_control]
    and, with ``etag``, an ``ETag`` of the body: a matching ``If-None-Match`` is a 304."""
    value = web.cache_control(**directives)

    def after(request: Any, response: Any) -> Any:
        if getattr(response, "streaming", True):
            return response
        if value and response.status_code < 400:
            response.setdefault("Cache-Control", value)
        if not etag:
            return response
        req = django_request(request)
        asked = (req.method, req.META.get("HTTP_IF_NONE_MATCH"))
        status, headers, _ = web.conditional(*asked, response.status_code, response.content)
        if status == 304:  # it keeps what tells caches how to store it
            kept = {n: response[n] for n in ("Cache-Control", "Vary") if response.has_header(n)}
            response, headers = HttpResponseNotModified(), {**kept, **headers}
        for name, header in headers.items():
            response[name] = header
        return response

    return functools.partial(_wrap, hooks=Hooks(after=after))


class AuthRequiredMixin:
    """What ``require_auth`` does, before ``dispatch`` (put it left of ``View``): the caller
    needs one of ``required_roles`` (if any) and every one of ``required_scopes``."""

    required_roles: ClassVar[Sequence[str]] = ()
    required_scopes: ClassVar[Sequence[str]] = ()

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Authenticate and authorize, then dispatch as usual."""
        hooks = _authorizing(self.required_roles, self.required_scopes)
        is_async = getattr(type(self), "view_is_async", False)
        return hooks.run(is_async, super().dispatch, (request, *args), kwargs)  # type: ignore[misc]


class RateLimitMixin:
    """What ``rate_limit`` does, before ``dispatch`` (right of ``AuthRequiredMixin``):
    ``rate_limit`` is a [`RouteLimit`][backendkit.web.RouteLimit], or a limits string
    counted per address (checked when the class is defined), or ``None``."""

    rate_limit: ClassVar[web.RouteLimit | str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if isinstance(cls.rate_limit, str):
            cls.rate_limit = web.RouteLimit(cls.rate_limit)

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Charge the limit, then dispatch as usual."""
        limit = self.rate_limit
        hooks = _piped("charge", limit) if isinstance(limit, web.RouteLimit) else Hooks()
        is_async = getattr(type(self), "view_is_async", False)
        return hooks.run(is_async, super().dispatch, (request, *args), kwargs)  # type: ignore[misc]


def health_view(
    *,
    database: str | None = "default",
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> Callable[[Any], Any]:
    """A ``GET``/``HEAD`` view: 200 when every probe answers, else 503 naming the failing
    ones ([`check_health`][backendkit.web.check_health]; ``database`` is a Django alias).
    Never charged the default limit (``path("api/health", health_view())``)."""

    def probe() -> bool:
        connection = connections[database]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()  # probes run on a worker thread: its connection must go
        return True

    def view(request: Any) -> Any:
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(allowed=("GET", "HEAD"))
        cycle = current_cycle(request)
        if cycle is not None:
            cycle.unobserve()  # probes are not traffic: request metrics leave them out
        probes = {"redis": redis, "checks": checks, "timeout": timeout}
        report = web.check_health(database=probe if database is not None else None, **probes)
        kit = current_kit()
        options: dict[str, Any] = {"problem": kit.problem, "retry_after": kit.settings.retry_after}
        return to_django(web.health_response(report, request_id=get_request_id(request), **options))

    setattr(view, DEFAULT_LIMIT_EXEMPT, True)  # probes poll it
    return view


def metrics_view(*, metrics: Any = None, token: str | None = None) -> Callable[[Any], Any]:
    """A ``GET`` view serving the Prometheus exposition (``metrics`` extra;
    ``path("metrics", metrics_view())``): never charged the default limit nor counted
    itself; ``metrics`` defaults to the kit's, ``token`` requires ``Authorization: Bearer
    <token>`` ([`MetricsEndpoint`][backendkit.metrics.MetricsEndpoint])."""
    from backendkit.metrics import MetricsEndpoint  # the extra, only when asked for

    MetricsEndpoint(metrics, token=token)  # a bad token stops the URLconf's import

    def view(request: Any) -> Any:
        cycle = current_cycle(request)
        if cycle is not None:
            cycle.unobserve()  # a scrape is not traffic
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed(allowed=("GET", "HEAD"))
        # Per scrape: the kit is built on first use and rebuilt when the settings change.
        endpoint = MetricsEndpoint.for_kit(current_kit(), metrics, token=token)
        meta = request.META
        return to_django(endpoint.answer(meta.get("HTTP_AUTHORIZATION"), meta.get("HTTP_ACCEPT")))

    setattr(view, DEFAULT_LIMIT_EXEMPT, True)  # scrapers poll it
    return view
