"""FastAPI adapter: one ``install(app, kit)`` call, then dependencies in FastAPI's idiom.

The app's [`Pipeline`][backendkit.web.Pipeline] makes every decision (its async twins);
this module only translates for it. See *Integrations → FastAPI* in the docs.
"""

from __future__ import annotations

from backendkit._extras import require

require("fastapi", "fastapi")

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.responses import Response
from typing_extensions import Unpack

from backendkit import web
from backendkit.adapters._fastapi_asgi import BackendKitMiddleware, ErrorCatcher, Facts, response
from backendkit.adapters._fastapi_openapi import (
    api_key_authorization,
    api_key_header,
    mark,
    patch_openapi,
)
from backendkit.errors import AppError, ConfigurationError, Unauthenticated
from backendkit.listing import CursorParams, PageParams, cursor_params, page_params
from backendkit.web import LimitOptions, Pipeline, Principal, RequestCycle, RouteLimit, WebKit

__all__ = [
    "BackendKitMiddleware",
    "ClientKey",
    "CurrentUser",
    "CursorPagination",
    "JsonBody",
    "OptionalUser",
    "Pagination",
    "RateLimit",
    "add_health_route",
    "add_metrics_route",
    "charge_limit",
    "client_key",
    "conditional_json",
    "current_cycle",
    "current_kit",
    "current_user",
    "install",
    "no_store",
    "optional_user",
    "require_roles",
    "require_scopes",
]

if TYPE_CHECKING:
    from backendkit.metrics import Metrics

M = TypeVar("M", bound=BaseModel)

_bearer_scheme = HTTPBearer(auto_error=False, description="A backendkit access token.")


def install(app: FastAPI, kit: WebKit, *, token_url: str | None = None) -> None:
    """Wire backendkit into ``app``, once, before it serves (else ``ConfigurationError``, as
    for a kit [`WebKit.check`][backendkit.web.WebKit.check] refuses): every error becomes
    the envelope (a 500 inside the user middleware, so CORS headers stay),
    [`BackendKitMiddleware`][backendkit.adapters.fastapi.BackendKitMiddleware] wraps the
    stack, OpenAPI documents the envelope, not a 422; the kit closes at shutdown.

    ``token_url`` (e.g. ``"/api/v1/auth/token"``, a form-encoded route answering as RFC
    6749 section 5.1 says) adds an OAuth2 password flow beside the HTTP bearer scheme in
    OpenAPI, so Swagger UI's *Authorize* can sign in with an email and a password."""
    if getattr(app.state, "backendkit", None) is not None:
        raise ConfigurationError("backendkit is already installed on this app")
    if app.middleware_stack is not None:
        raise ConfigurationError("install(app, kit) must run before the app serves requests")
    kit.check("async")  # now, not as a 500 on every request
    pipeline = app.state.backendkit = Pipeline(kit)
    for error in (AppError, HTTPException, RequestValidationError):
        app.add_exception_handler(error, _handle_error)
    # Innermost user middleware (later add_middleware calls go outside it).
    catcher = Middleware(ErrorCatcher, pipeline=pipeline)
    app.user_middleware.append(catcher)
    build = app.build_middleware_stack

    def build_with_backendkit() -> Any:
        # Instead of ServerErrorMiddleware, which answers an error of user middleware with a
        # plain 500 and raises it again, BackendKitMiddleware renders it (once).
        users = app.user_middleware
        # With no user middleware there is nothing for the error catcher to render inside:
        # the outer layer renders the same envelope, and a request skips one layer.
        alone = users == [catcher]
        if alone:
            users.remove(catcher)
        try:
            stack = build()
        finally:
            if alone:
                users.append(catcher)
        inner = stack.app if isinstance(stack, ServerErrorMiddleware) else stack
        return BackendKitMiddleware(inner, pipeline)

    # Starlette builds the stack lazily through this method: wrapping it keeps the app
    # object (and `app.add_middleware` for user middleware) unchanged.
    setattr(app, "build_middleware_stack", build_with_backendkit)  # noqa: B010
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with original(a) as state:
            try:
                yield state
            finally:
                await kit.aclose()

    app.router.lifespan_context = lifespan
    patch_openapi(app, kit, token_url=token_url)


def current_kit(request: Request) -> WebKit:
    """The [`WebKit`][backendkit.web.WebKit] serving the request (``install``-ed)."""
    return Facts(request).pipeline.kit


def current_cycle(request: Request) -> RequestCycle:
    """The request's [`RequestCycle`][backendkit.web.RequestCycle] (id, user, headers)."""
    return Facts(request).cycle


def client_key(request: Request) -> str:
    """The client address as rate-limit keys use it ([`client_key`][backendkit.web.client_key]);
    a dependency (``ip: ClientKey``) or a call, e.g. for a login limit's bucket."""
    facts = Facts(request)
    return facts.pipeline.client_key(facts)


#: ``ip: ClientKey`` in a route's parameters is the client address (``client_key``).
ClientKey = Annotated[str, Depends(client_key)]


async def _handle_error(request: Request, exc: Exception) -> Response:
    # FastAPI's and Starlette's own errors as the catalogue's.
    if isinstance(exc, RequestValidationError):
        exc = web.request_validation_error(exc.errors())
    elif isinstance(exc, HTTPException) and isinstance(exc.__cause__, AppError):
        exc = exc.__cause__  # FastAPI wraps errors raised while reading a body (our cap)
    elif isinstance(exc, HTTPException):
        exc = web.framework_error(exc.status_code, exc.detail, headers=exc.headers)
    facts = Facts(request)
    return response(facts.pipeline.render(facts.cycle, exc))


async def optional_user(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
    _api_key: Annotated[str | None, Depends(api_key_authorization)] = None,
    _x_api_key: Annotated[str | None, Depends(api_key_header)] = None,
) -> Principal | None:
    """Dependency: the caller, ``None`` when anonymous; credentials that do not verify are a
    401 ([`Pipeline.principal`][backendkit.web.Pipeline.principal]). The bearer and API-key
    parameters only declare the security schemes in OpenAPI (the pipeline reads the
    headers; API-key schemes appear when the kit has ``api_keys``)."""
    facts = Facts(request)
    return await facts.pipeline.aprincipal(facts.cycle, facts)


async def current_user(principal: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    """Dependency: the authenticated [`Principal`][backendkit.web.Principal] (401 without)."""
    if principal is None:
        raise Unauthenticated()
    return principal


mark(optional_user, "credentials")  # the request steps each one runs, for OpenAPI
mark(current_user, "authenticated")

#: ``user: CurrentUser`` in a route's parameters requires authentication.
CurrentUser = Annotated[Principal, Depends(current_user)]
#: ``user: OptionalUser`` is the principal, or ``None`` for anonymous requests.
OptionalUser = Annotated[Principal | None, Depends(optional_user)]


def require_roles(*roles: str) -> Any:
    """``dependencies=[require_roles("admin")]``: one of ``roles`` (else 403); the principal."""
    return _authorized(roles=roles)


def require_scopes(*scopes: str) -> Any:
    """Dependency requiring every one of ``scopes`` (else 403); gives the principal."""
    return _authorized(scopes=scopes)


def _authorized(*, roles: tuple[str, ...] = (), scopes: tuple[str, ...] = ()) -> Any:
    async def authorized(request: Request, _user: CurrentUser) -> Principal:
        facts = Facts(request)
        return await facts.pipeline.aauthorize(facts.cycle, facts, roles=roles, scopes=scopes)

    mark(authorized, "authorize")
    return Depends(authorized)


async def no_store(request: Request) -> None:
    """Dependency: ``Cache-Control: no-store`` (login routes; authenticated ones have it)."""
    current_cycle(request).mark_no_store()


def RateLimit(limits: str, **options: Unpack[LimitOptions]) -> Any:  # noqa: N802 - like Depends
    """Dependency charging a [`RouteLimit`][backendkit.web.RouteLimit] of ``options``, built
    (and checked) when the route is defined. Only ``key="user"`` reads the token, verified
    first, so an invalid one cannot dodge an address-keyed limit."""
    limit = RouteLimit(limits, **options)

    async def charge(request: Request) -> None:
        facts = Facts(request)
        await facts.pipeline.acharge(facts.cycle, facts, limit)

    async def charge_user(request: Request, _user: OptionalUser) -> None:
        await charge(request)

    call = charge_user if limit.needs_user else charge  # auth resolved (and documented) first
    mark(call, "limit")
    return Depends(call)


async def charge_limit(request: Request, limits: str, **options: Unpack[LimitOptions]) -> None:
    """Charge a [`RouteLimit`][backendkit.web.RouteLimit] from inside the route, e.g. on a
    bucket only it can compute: ``bucket=f"login:{ip}:{email_digest}"``."""
    facts = Facts(request)
    await facts.pipeline.acharge(facts.cycle, facts, RouteLimit(limits, **options))


def JsonBody(model: type[M]) -> Any:  # noqa: N802 - reads like FastAPI's Body()
    """``Annotated[Model, JsonBody(Model)]``: the body read by the core's
    [`parse_body`][backendkit.web.parse_body] (413, 415, 400), documented in OpenAPI."""

    async def read(request: Request) -> M:
        max_bytes = current_kit(request).max_body_bytes
        body, content_type = await request.body(), request.headers.get("content-type")
        return web.parse_body(body, content_type, max_bytes=max_bytes, model=model)

    mark(read, "json_body", body=model)
    return Depends(read)


# The declared parameters document the query; the core reads it, as in every adapter.
_Size = Annotated[int | None, Query(alias="perPage", ge=1, description="Items per page.")]
_Page = Annotated[int | None, Query(ge=1, description="Page number, from 1.")]
_Cursor = Annotated[str | None, Query(description="Opaque cursor from a previous page.")]


async def _page_query(request: Request, page: _Page = None, per_page: _Size = None) -> PageParams:
    return page_params(request.query_params)


async def _cursor_query(
    request: Request, cursor: _Cursor = None, per_page: _Size = None
) -> CursorParams:
    return cursor_params(request.query_params)


#: ``params: Pagination`` reads ``page`` and ``perPage`` (400 on bad values).
Pagination = Annotated[PageParams, Depends(_page_query)]
#: ``params: CursorPagination`` reads ``cursor`` and ``perPage`` (400 on bad values).
CursorPagination = Annotated[CursorParams, Depends(_cursor_query)]


def conditional_json(
    request: Request,
    content: Any,
    *,
    status: int = 200,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``content`` as JSON with a strong ``ETag``, a bodiless ``304`` when ``If-None-Match``
    matches ([`conditional_response`][backendkit.web.conditional_response])."""
    match = request.headers.get("if-none-match")
    rendered = web.conditional_response(
        request.method, match, content, status=status, cache_control=cache_control, headers=headers
    )
    return response(rendered)


def add_health_route(app: FastAPI, path: str = "/health", **probes: Any) -> None:
    """Mount a [`HealthRoute`][backendkit.web.HealthRoute] of ``probes`` (``database=``,
    ``redis=``, ``checks=``, ``timeout=``) on an ``install``-ed app: 200, else 503."""
    pipeline = getattr(app.state, "backendkit", None)
    if not isinstance(pipeline, Pipeline):
        raise ConfigurationError("call install(app, kit) before add_health_route(app)")
    route = web.HealthRoute(pipeline, path, **probes)

    async def health(request: Request) -> Response:
        return response(await route.aanswer(current_cycle(request)))

    mark(health, "health")
    app.add_api_route(path, health, methods=["GET"], tags=["health"], include_in_schema=True)


def add_metrics_route(
    app: FastAPI,
    path: str = "/metrics",
    *,
    metrics: Metrics | None = None,
    token: str | None = None,
) -> None:
    """Serve the Prometheus exposition at ``path`` on an ``install``-ed app (``metrics``
    extra), out of the OpenAPI schema: never charged a limit nor counted itself;
    ``metrics`` defaults to the kit's, ``token`` requires ``Authorization: Bearer <token>``
    ([`MetricsEndpoint`][backendkit.metrics.MetricsEndpoint])."""
    from backendkit.metrics import MetricsEndpoint  # the extra, only when asked for

    pipeline = getattr(app.state, "backendkit", None)
    if not isinstance(pipeline, Pipeline):
        raise ConfigurationError("call install(app, kit) before add_metrics_route(app)")
    pipeline.exempt(path)
    endpoint = MetricsEndpoint.for_kit(pipeline.kit, metrics, token=token)

    def metrics_route(request: Request) -> Response:  # sync: a threadpool reads the files
        current_cycle(request).unobserve()  # a scrape is not traffic
        headers = request.headers
        return response(endpoint.answer(headers.get("authorization"), headers.get("accept")))

    app.add_api_route(path, metrics_route, methods=["GET"], include_in_schema=False)
