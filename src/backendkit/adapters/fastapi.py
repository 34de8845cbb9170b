"""FastAPI adapter: one ``install(app, kit)`` call, then dependencies in FastAPI's idiom.

See *Integrations → FastAPI* in the docs for a complete, tested example.

``install`` registers the exception handlers (the app's ``AppError``s, Starlette's
``HTTPException`` for route 404/405, ``RequestValidationError`` as a 400
``VALIDATION_ERROR``, and a catch-all 500), wraps the app in the pure ASGI
[`BackendKitMiddleware`][backendkit.adapters.fastapi.BackendKitMiddleware], documents the
error envelope in OpenAPI (removing FastAPI's 422), and closes the kit's pools when the
app shuts down. Everything async uses the async twins: no blocking Redis or bcrypt call
runs on the event loop.
"""

from __future__ import annotations

from backendkit._extras import require

require("fastapi", "fastapi")

import http
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import Response

from backendkit.adapters._fastapi_asgi import (
    CYCLE_KEY,
    HANDLED_KEY,
    BackendKitMiddleware,
    ErrorCatcher,
)
from backendkit.adapters._fastapi_openapi import (
    BODY_MODEL_ATTR,
    mark_errors,
    patch_openapi,
)
from backendkit.errors import (
    AppError,
    BadRequest,
    ConfigurationError,
    Unauthenticated,
    ValidationFailed,
)
from backendkit.logging import accept_request_id
from backendkit.pagination import CursorParams, PageParams
from backendkit.responses import render_json
from backendkit.validation import error_details
from backendkit.web import (
    JSON_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    KeyKind,
    Principal,
    RequestCycle,
    WebKit,
    aauthenticate,
    acheck_health,
    aenforce_limit,
    check_roles,
    check_scopes,
    conditional,
    credentials,
    cursor_params,
    error_for_status,
    health_response,
    limit_key,
    page_params,
    parse_body,
    render_error,
    route_rule,
    rule_name,
)
from backendkit.web import client_key as _core_client_key

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

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
    "charge_limit",
    "client_key",
    "conditional_json",
    "current_user",
    "get_cycle",
    "get_kit",
    "install",
    "no_store",
    "optional_user",
    "require_roles",
    "require_scopes",
]

M = TypeVar("M", bound=BaseModel)

_PRINCIPAL_KEY = "backendkit.principal"
# app.state attribute: paths the app-wide default limit never charges (health routes).
_UNLIMITED_ATTR = "backendkit_unlimited_paths"
_MISSING = object()
_bearer_scheme = HTTPBearer(auto_error=False, description="A backendkit access token.")


# --------------------------------------------------------------------------- install


def install(app: FastAPI, kit: WebKit) -> None:
    """Wire backendkit into ``app`` (call once, before the app serves requests).

    Args:
        app: the FastAPI application.
        kit: the [`WebKit`][backendkit.web.WebKit] with settings and services.

    Raises:
        ConfigurationError: ``install`` was already called on this app, the app has
            already started serving, or the kit cannot do what its settings ask (a default
            limit without an ``async_limiter``: see
            [`WebKit.check`][backendkit.web.WebKit.check]).
    """
    if getattr(app.state, "backendkit", None) is not None:
        raise ConfigurationError("backendkit is already installed on this app")
    if app.middleware_stack is not None:
        raise ConfigurationError("install(app, kit) must run before the app serves requests")
    kit.check("async")  # now, not as a 500 on every request
    app.state.backendkit = kit
    app.add_exception_handler(AppError, _handle_app_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    # Innermost user middleware (later add_middleware calls go outside it): an unhandled
    # error becomes a 500 envelope *inside* the user middleware, so CORS and the like
    # still decorate it. Starlette itself would answer it from its outermost layer.
    app.user_middleware.append(Middleware(ErrorCatcher, kit=kit))
    # Fallback for errors raised by user middleware itself (outside that layer).
    app.add_exception_handler(Exception, _handle_unexpected)
    _wrap_middleware_stack(app, kit, _unlimited_paths(app))
    _close_on_shutdown(app, kit)
    patch_openapi(app)


def _unlimited_paths(app: FastAPI) -> set[str]:
    paths = getattr(app.state, _UNLIMITED_ATTR, None)
    if paths is None:
        paths = set()
        setattr(app.state, _UNLIMITED_ATTR, paths)
    return cast("set[str]", paths)


def _wrap_middleware_stack(app: FastAPI, kit: WebKit, unlimited: set[str]) -> None:
    build = app.build_middleware_stack
    default_limit = _default_limit(kit, unlimited) if kit.default_rate_limit else None

    def build_with_backendkit() -> Any:
        # Outermost: around ServerErrorMiddleware, so even its 500s get the request id.
        return BackendKitMiddleware(build(), kit, default_limit=default_limit)

    # Starlette builds the stack lazily through this method, so wrapping it keeps the
    # app object (and `app.add_middleware` for user middleware) unchanged.
    setattr(app, "build_middleware_stack", build_with_backendkit)  # noqa: B010


def _close_on_shutdown(app: FastAPI, kit: WebKit) -> None:
    original = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with original(a) as state:
            try:
                yield state
            finally:
                await kit.aclose()

    app.router.lifespan_context = lifespan


def _default_limit(
    kit: WebKit, unlimited: set[str]
) -> Callable[[Any, RequestCycle], Awaitable[None]]:
    rule = route_rule(kit.default_rate_limit or "", "default")

    async def charge(scope: Any, cycle: RequestCycle) -> None:
        path = scope["path"]
        # Only the API is charged (kit.api_prefixes): probes and pages are never throttled.
        if not kit.is_api_path(path) or path in unlimited:
            return
        limiter = kit.async_limiter
        if limiter is None:
            raise ConfigurationError("rate_limit_default needs an async_limiter in the WebKit")
        ip = _scope_client_ip(kit, scope)
        await aenforce_limit(limiter, rule, limit_key("ip", client_ip=ip, user_id=None), cycle)

    return charge


# --------------------------------------------------------------------------- helpers


def get_kit(request: Request) -> WebKit:
    """The [`WebKit`][backendkit.web.WebKit] installed on the request's app.

    Raises:
        ConfigurationError: ``install(app, kit)`` was not called.
    """
    kit = getattr(request.app.state, "backendkit", None)
    if not isinstance(kit, WebKit):
        raise ConfigurationError("call backendkit.adapters.fastapi.install(app, kit) first")
    return kit


def get_cycle(request: Request) -> RequestCycle:
    """The request's [`RequestCycle`][backendkit.web.RequestCycle] (request id, user, headers)."""
    cycle = request.scope.get(CYCLE_KEY)
    if cycle is None:
        # Not wrapped by the middleware (a bare sub-app): still give the request an id.
        cycle = RequestCycle(
            method=request.method,
            path=request.url.path,
            request_id=accept_request_id(request.headers.get(REQUEST_ID_HEADER)),
        )
        request.scope[CYCLE_KEY] = cycle
    assert isinstance(cycle, RequestCycle)
    return cycle


def _scope_client_ip(kit: WebKit, scope: Any) -> str:
    client = scope.get("client")
    wanted = kit.ip_resolver.header.encode("latin-1")
    values = [value.decode("latin-1") for name, value in scope["headers"] if name == wanted]
    return _core_client_key(
        kit, peer=client[0] if client else None, forwarded=",".join(values) or None
    )


def client_key(request: Request) -> str:
    """The client address of this request, as rate-limit keys use it.

    The peer address, or behind ``settings.trusted_proxies`` the client named by the
    forwarding header (see [`client_key`][backendkit.web.client_key]); IPv6 addresses are
    grouped by /64 and a request without a usable address gives ``"unknown"``. Use it as
    a dependency (``ip: ClientKey``) or call it, e.g. to key a login limit by
    ``(address, email)``.
    """
    return _scope_client_ip(get_kit(request), request.scope)


#: ``ip: ClientKey`` in a route's parameters is the client address (``client_key``).
ClientKey = Annotated[str, Depends(client_key)]


def _respond(request: Request, exc: BaseException) -> Response:
    kit = get_kit(request)
    cycle = get_cycle(request)
    rendered = render_error(
        exc,
        request_id=cycle.request_id,
        problem=kit.problem,
        user_id=cycle.user_id,
        retry_after=kit.settings.retry_after,
    )
    request.scope[HANDLED_KEY] = exc
    return Response(
        rendered.body,
        status_code=rendered.status,
        headers=dict(rendered.headers),
        media_type=rendered.media_type,
    )


# --------------------------------------------------------------------------- error handlers


async def _handle_app_error(request: Request, exc: Exception) -> Response:
    return _respond(request, exc)


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    return _respond(request, exc)


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    cause = exc.__cause__
    if isinstance(cause, AppError):
        # FastAPI wraps errors raised while it reads a body (our byte cap) in a 400.
        return _respond(request, cause)
    detail: str | None = exc.detail if isinstance(exc.detail, str) else None
    if detail is not None and detail == _default_phrase(exc.status_code):
        detail = None  # Starlette's stock phrase: use the catalogue's message instead
    return _respond(request, error_for_status(exc.status_code, message=detail, headers=exc.headers))


def _default_phrase(status: int) -> str | None:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return None


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})
# Parameters named by their Python name on the wire: reported in camelCase, like the
# fields of an ApiModel body and the path parameters of the Flask and Django adapters.
_CAMEL_LOCATIONS = frozenset({"query", "path"})


def _wire_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``("path", "note_id")`` -> ``("noteId",)``; a body location keeps its (alias) names."""
    if not loc or loc[0] not in _LOCATIONS:
        return loc
    rest = loc[1:]
    if loc[0] in _CAMEL_LOCATIONS and rest and isinstance(rest[0], str) and "_" in rest[0]:
        # An alias such as "perPage" (or "x-key") has no underscore and is kept as it is.
        return (to_camel(rest[0]), *rest[1:])
    return rest


async def _handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [dict(error) for error in exc.errors()]
    if any(error.get("type") == "json_invalid" for error in errors):
        return _respond(request, BadRequest("The request body is not valid JSON"))
    for error in errors:
        error["loc"] = _wire_loc(tuple(error.get("loc", ())))
    # The inputs stay in: error_details uses them to spot messages that would echo them.
    details = error_details(errors)
    message = details[0].message if len(details) == 1 else None
    return _respond(request, ValidationFailed(message, details=details))


# --------------------------------------------------------------------------- auth


async def optional_user(
    request: Request,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer_scheme)] = None,
) -> Principal | None:
    """Dependency: the authenticated [`Principal`][backendkit.web.Principal], or ``None``.

    The Bearer header is read first; with cookie transport configured, the access cookie
    (with the CSRF check on unsafe methods). A malformed header or an invalid token is a
    401 even here: a client that sent credentials expects them to be used.
    """
    cached = request.scope.get(_PRINCIPAL_KEY, _MISSING)
    if cached is not _MISSING:
        return cast("Principal | None", cached)
    kit = get_kit(request)
    token = credentials(
        kit,
        method=request.method,
        authorization=request.headers.get("authorization"),
        cookies=request.cookies,
        headers=request.headers,
    )
    principal = None if token is None else await aauthenticate(kit, token)
    if principal is not None:
        get_cycle(request).set_user(principal.user_id)
    request.scope[_PRINCIPAL_KEY] = principal
    return principal


async def current_user(
    principal: Annotated[Principal | None, Depends(optional_user)],
) -> Principal:
    """Dependency: the authenticated [`Principal`][backendkit.web.Principal].

    Raises:
        Unauthenticated: no credentials (401 with ``WWW-Authenticate: Bearer``).
        InvalidToken: the token does not verify.
    """
    if principal is None:
        raise Unauthenticated()
    return principal


def _auth_errors(kit: Any) -> frozenset[str]:
    # Credentials sent are always checked (401); the cookie's CSRF check refuses with 403.
    return frozenset({"401", "403"}) if getattr(kit, "cookie_auth", None) else frozenset({"401"})


# What each dependency can answer, for the OpenAPI document (see _fastapi_openapi).
mark_errors(optional_user, _auth_errors)
mark_errors(current_user, frozenset({"401"}))

#: ``user: CurrentUser`` in a route's parameters requires authentication.
CurrentUser = Annotated[Principal, Depends(current_user)]
#: ``user: OptionalUser`` is the principal, or ``None`` for anonymous requests.
OptionalUser = Annotated[Principal | None, Depends(optional_user)]


def require_roles(*roles: str) -> Any:
    """Dependency requiring one of ``roles`` (403 otherwise); returns the principal.

    Use as ``dependencies=[require_roles("admin")]`` or
    ``user: Annotated[Principal, require_roles("admin")]``.
    """

    async def has_role(user: CurrentUser) -> Principal:
        check_roles(user, roles)
        return user

    mark_errors(has_role, frozenset({"403"}))
    return Depends(has_role)


def require_scopes(*scopes: str) -> Any:
    """Dependency requiring every one of ``scopes`` (403 otherwise); returns the principal."""

    async def has_scopes(user: CurrentUser) -> Principal:
        check_scopes(user, scopes)
        return user

    mark_errors(has_scopes, frozenset({"403"}))
    return Depends(has_scopes)


async def no_store(request: Request) -> None:
    """Dependency: the response gets ``Cache-Control: no-store`` (login, refresh routes).

    Use as ``dependencies=[Depends(no_store)]``; routes using ``CurrentUser`` get it anyway.
    """
    get_cycle(request).mark_no_store()


# --------------------------------------------------------------------------- rate limits

KeyFunc = Callable[[Request], "str | Awaitable[str]"]


def RateLimit(  # noqa: N802 - reads like FastAPI's own Depends/Security
    limits: str,
    *,
    key: KeyKind | KeyFunc = "ip",
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
) -> Any:
    """Dependency charging a per-route rate limit; adds the rate-limit headers.

    Args:
        limits: a limits string such as ``"5/minute"`` or ``"10/second;100/hour"``.
        key: ``"ip"`` (client address, honouring ``trusted_proxies``), ``"user"`` (the
            authenticated user; anonymous requests fall back to the address; the token is
            verified *before* the limit is charged), or a function of the request
            (sync or async) returning the key.
        name: the rule name (default: method and route path, identical in every worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After``).
    """
    route_rule(limits, name or "check", failure_policy)  # a bad limit fails at import time

    async def charge(request: Request, user: Principal | None) -> None:
        kit = get_kit(request)
        limiter = kit.async_limiter
        if limiter is None:
            raise ConfigurationError("RateLimit needs an async_limiter in the WebKit")
        rule = route_rule(limits, name or _route_rule_name(request), failure_policy)
        if callable(key):
            value = key(request)
            bucket = str(await value) if inspect.isawaitable(value) else str(value)
        else:
            bucket = limit_key(
                key,
                client_ip=_scope_client_ip(kit, request.scope),
                user_id=user.user_id if user is not None else None,
            )
        await aenforce_limit(limiter, rule, bucket, get_cycle(request))

    if key == "user":
        # Keyed by user: FastAPI resolves the (cached) auth dependency first.
        async def charge_user(request: Request, user: OptionalUser) -> None:
            await charge(request, user)

        mark_errors(charge_user, frozenset({"429"}))
        return Depends(charge_user)

    # Otherwise no token is verified for the limit: cheaper, and an invalid token must
    # not let a client dodge an address-keyed limit.
    async def charge_anonymous(request: Request) -> None:
        await charge(request, None)

    mark_errors(charge_anonymous, frozenset({"429"}))
    return Depends(charge_anonymous)


async def charge_limit(
    request: Request,
    limits: str,
    *,
    key: str,
    name: str,
    failure_policy: FailurePolicy | None = None,
) -> None:
    """Charge one hit of a rule on a key the route computes, from inside the route.

    For a limit whose key only the route knows, e.g. login attempts per (client address,
    submitted email) next to the per-address ``RateLimit``. Uses the kit's async limiter;
    the rate-limit headers go on the response, as with ``RateLimit``.

    Args:
        request: the request.
        limits: a limits string such as ``"5/15 minutes"``.
        key: the bucket, e.g. ``f"login:{ip}:{email_digest}"`` (keep personal data out of
            it: it is stored in the limiter's backend).
        name: the rule name (the same in every worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After`` and the headers).
        ConfigurationError: the kit has no async limiter.
        ValueError: ``limits`` does not parse.
    """
    kit = get_kit(request)
    if kit.async_limiter is None:
        raise ConfigurationError("charge_limit needs an async_limiter in the WebKit")
    rule = route_rule(limits, name, failure_policy)
    await aenforce_limit(kit.async_limiter, rule, key, get_cycle(request))


def _route_rule_name(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return rule_name(request.method, path)


# --------------------------------------------------------------------------- bodies


def JsonBody(model: type[M]) -> Any:  # noqa: N802 - reads like FastAPI's Body()
    """Dependency reading the body through the core: ``Annotated[Model, JsonBody(Model)]``.

    The body is read under the byte cap, its content type checked (415), parsed with
    [`parse_json`][backendkit.validation.parse_json] (malformed or too deep: 400
    ``BAD_REQUEST``, never a ``RecursionError``) and validated into ``model`` (400
    ``VALIDATION_ERROR``). The request body is documented in OpenAPI.
    """

    async def read(request: Request) -> M:
        kit = get_kit(request)
        body = await request.body()
        return parse_body(
            body,
            request.headers.get("content-type"),
            max_bytes=kit.max_body_bytes,
            model=model,
        )

    setattr(read, BODY_MODEL_ATTR, model)
    return Depends(read)


# --------------------------------------------------------------------------- pagination


async def _page_query(
    request: Request,
    page: Annotated[int | None, Query(ge=1, description="Page number, from 1.")] = None,
    per_page: Annotated[
        int | None, Query(alias="perPage", ge=1, description="Items per page.")
    ] = None,
) -> PageParams:
    # The declared parameters document the query; the core reads it, so every adapter
    # accepts and refuses exactly the same strings.
    return page_params(request.query_params)


async def _cursor_query(
    request: Request,
    cursor: Annotated[str | None, Query(description="Opaque cursor from a previous page.")] = None,
    per_page: Annotated[
        int | None, Query(alias="perPage", ge=1, description="Items per page.")
    ] = None,
) -> CursorParams:
    return cursor_params(request.query_params)


mark_errors(_page_query, frozenset({"400"}))
mark_errors(_cursor_query, frozenset({"400"}))

#: ``params: Pagination`` reads ``page`` and ``perPage`` (400 on bad values).
Pagination = Annotated[PageParams, Depends(_page_query)]
#: ``params: CursorPagination`` reads ``cursor`` and ``perPage`` (400 on bad values).
CursorPagination = Annotated[CursorParams, Depends(_cursor_query)]


# --------------------------------------------------------------------------- caching & health


def conditional_json(
    request: Request,
    content: Any,
    *,
    status_code: int = 200,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response with a strong ``ETag``; ``304`` (no body) when ``If-None-Match`` matches.

    Args:
        request: the current request.
        content: the envelope (``success(...)``) to render.
        status_code: the status of the full response.
        cache_control: a ``Cache-Control`` value, e.g. from
            [`cache_control`][backendkit.web.cache_control].
        headers: more headers.
    """
    status, extra, body = conditional(
        request.method, request.headers.get("if-none-match"), status_code, render_json(content)
    )
    all_headers = dict(headers or {})
    all_headers.update(extra)
    if cache_control is not None:
        all_headers["Cache-Control"] = cache_control
    if status == 304:
        return Response(status_code=304, headers=all_headers)
    return Response(body, status_code=status, headers=all_headers, media_type=JSON_CONTENT_TYPE)


def add_health_route(
    app: FastAPI,
    path: str = "/health",
    *,
    database: Any = None,
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> None:
    """Mount a health check: ``200`` envelope when every dependency answers, else ``503``.

    The app-wide default rate limit never applies to it, even under an API prefix.

    Args:
        app: the app.
        path: where to mount it.
        database: a SQLAlchemy (async) engine or a callable.
        redis: an (async) Redis connector or a callable.
        checks: more named probes.
        timeout: seconds each probe may take.
    """

    async def health(request: Request) -> Response:
        report = await acheck_health(database=database, redis=redis, checks=checks, timeout=timeout)
        kit = get_kit(request)
        rendered = health_response(
            report,
            request_id=get_cycle(request).request_id,
            problem=kit.problem,
            retry_after=kit.settings.retry_after,
        )
        return Response(
            rendered.body,
            status_code=rendered.status,
            headers=dict(rendered.headers),
            media_type=rendered.media_type,
        )

    mark_errors(health, frozenset({"503"}))
    _unlimited_paths(app).add(path)
    app.add_api_route(path, health, methods=["GET"], tags=["health"], include_in_schema=True)
