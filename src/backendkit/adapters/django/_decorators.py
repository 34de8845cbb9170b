"""View decorators: authentication, roles and scopes, rate limits, JSON bodies, HTTP caching.

Each works on sync and async function views, and on class-based views through Django's
``method_decorator`` (or the mixins in ``_mixins``). Failures raise the core's
[`AppError`][backendkit.errors.AppError]s, which ``BackendKitMiddleware`` renders into the
envelope; the decorators themselves never build error responses.

Example:
    ```python
    @require_auth(roles=["admin"])
    @rate_limit("10/minute", key="user")
    @json_body(UpdateUser)
    def update_user(request, user_id, body: UpdateUser):
        ...
    ```
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from backendkit._extras import require

require("django", "django")

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotModified  # type: ignore[import-untyped]
from pydantic import BaseModel

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._request import (
    client_key,
    django_request,
    get_cycle,
    set_principal,
)
from backendkit.errors import ConfigurationError, Unauthenticated
from backendkit.web import (
    KeyKind,
    Principal,
    aauthenticate,
    aenforce_limit,
    authenticate,
    cache_control,
    check_content_length,
    check_roles,
    check_scopes,
    conditional,
    credentials,
    enforce_limit,
    limit_key,
    parse_body,
    read_body,
    route_rule,
    rule_name,
)

if TYPE_CHECKING:
    from backendkit.ratelimit import FailurePolicy

__all__ = [
    "acharge_limit",
    "charge_limit",
    "http_cache",
    "json_body",
    "no_store",
    "rate_limit",
    "require_auth",
    "require_roles",
    "require_scopes",
]

V = TypeVar("V", bound=Callable[..., Any])
KeyFunc = Callable[[HttpRequest], str]


def _csrf_exempt(view: V) -> V:
    """Exempt ``view`` from ``CsrfViewMiddleware``: it protects itself.

    A token-authenticated view carries no ambient credential a cross-site page could ride
    on (the cookie transport runs its own double-submit check), and a JSON-only view cannot
    be reached by a cross-site form: browsers send ``application/json`` cross-site only
    after a CORS preflight. DRF exempts its views for the same reasons.
    """
    setattr(view, "csrf_exempt", True)  # noqa: B010 - the attribute Django's middleware reads
    return view


def _around(
    view: V,
    before: Callable[[HttpRequest], None],
    abefore: Callable[[HttpRequest], Awaitable[None]],
) -> V:
    """Wrap ``view`` so ``before`` (or, for an async view, ``abefore``) runs first."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            await abefore(request)
            return await view(request, *args, **kwargs)

        return cast(V, async_view)

    @functools.wraps(view)
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        before(request)
        return view(request, *args, **kwargs)

    return cast(V, sync_view)


# -- authentication -------------------------------------------------------------------------


def _token(request: HttpRequest) -> str:
    kit = get_kit()
    token = credentials(
        kit,
        method=request.method or "GET",
        authorization=request.META.get("HTTP_AUTHORIZATION"),
        cookies=request.COOKIES,
        headers=request.headers,
    )
    if token is None:
        raise Unauthenticated()
    return token


def _authorize(principal: Principal, roles: tuple[str, ...], scopes: tuple[str, ...]) -> None:
    check_roles(principal, roles)
    check_scopes(principal, scopes)


def authorize_request(
    request: HttpRequest, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Principal:
    """Authenticate ``request`` and check ``roles``/``scopes`` (sync; used by the mixins)."""
    principal = authenticate(get_kit(), _token(request))
    _authorize(principal, tuple(roles), tuple(scopes))
    set_principal(request, principal)
    return principal


async def aauthorize_request(
    request: HttpRequest, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Principal:
    """Async twin of :func:`authorize_request` (the token store is queried without blocking)."""
    principal = await aauthenticate(get_kit(), _token(request))
    _authorize(principal, tuple(roles), tuple(scopes))
    set_principal(request, principal)
    return principal


def require_auth(
    view: V | None = None, *, roles: Iterable[str] = (), scopes: Iterable[str] = ()
) -> Any:
    """Require a valid access token (Bearer header, or the cookie transport when configured).

    The caller is then available as ``request.principal`` (or
    [`get_principal(request)`][backendkit.adapters.django.get_principal]), its id is bound
    to the log context and the response is ``Cache-Control: no-store``. The view is exempt
    from ``CsrfViewMiddleware``: Bearer tokens are not sent by browsers on their own, and
    the cookie transport checks its own CSRF token.

    Args:
        view: the view, when used bare (``@require_auth``).
        roles: the caller needs at least one of these roles.
        scopes: the caller needs every one of these scopes.

    Raises:
        Unauthenticated: no or malformed credentials (401, ``WWW-Authenticate: Bearer``).
        InvalidToken: the token does not verify (401).
        Forbidden: a role or scope is missing, or a cookie request failed the CSRF check.

    Example:
        ```python
        @require_auth
        def me(request): ...

        @require_auth(roles=["admin"])
        def delete_user(request, user_id): ...
        ```
    """
    wanted_roles, wanted_scopes = tuple(roles), tuple(scopes)

    def decorate(func: V) -> V:
        def before(request: HttpRequest) -> None:
            authorize_request(request, wanted_roles, wanted_scopes)

        async def abefore(request: HttpRequest) -> None:
            await aauthorize_request(request, wanted_roles, wanted_scopes)

        return _csrf_exempt(_around(func, before, abefore))

    return decorate(view) if view is not None else decorate


def require_roles(*roles: str) -> Callable[[V], V]:
    """Require authentication and at least one of ``roles`` (``@require_roles("admin")``)."""
    return cast(Callable[[V], V], require_auth(roles=roles))


def require_scopes(*scopes: str) -> Callable[[V], V]:
    """Require authentication and every one of ``scopes`` (``@require_scopes("users:write")``)."""
    return cast(Callable[[V], V], require_auth(scopes=scopes))


# -- rate limits ----------------------------------------------------------------------------


def _limit_key(request: HttpRequest, key: KeyKind | KeyFunc) -> str:
    if callable(key):
        return str(key(request))
    if key not in ("ip", "user"):
        # A literal would otherwise silently count under the client address.
        raise ConfigurationError(
            f"rate-limit key must be 'ip', 'user' or a function of the request, not {key!r}"
        )
    principal = getattr(django_request(request), "principal", None)
    return limit_key(
        key,
        client_ip=client_key(request),
        user_id=principal.user_id if isinstance(principal, Principal) else None,
    )


def _rule_name(request: HttpRequest, name: str | None, fallback: str) -> str:
    if name is not None:
        return name
    match = request.resolver_match
    route = match.route if match is not None and match.route else fallback
    return rule_name(request.method or "GET", route)


def rate_limit(
    limits: str,
    *,
    key: KeyKind | KeyFunc = "ip",
    name: str | None = None,
    failure_policy: FailurePolicy | None = None,
) -> Callable[[V], V]:
    """Charge a per-view rate limit and add the rate-limit headers to the response.

    Args:
        limits: a limits string such as ``"5/minute"`` or ``"10/second;100/hour"``.
        key: ``"ip"`` (client address behind the trusted proxies), ``"user"`` (the caller
            authenticated by an outer ``@require_auth``; anonymous requests fall back to the
            address), or a function of the request returning the key.
        name: the rule name (default: the method and URL pattern, the same in every worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After`` and the headers).
        ValueError: ``limits`` does not parse (at decoration time).

    Example:
        ```python
        @rate_limit("5/minute")
        def login(request): ...
        ```
    """
    route_rule(limits, name or "check", failure_policy)  # a bad limit fails at import time

    def decorate(func: V) -> V:
        options: dict[str, Any] = {
            "key": key,
            "name": name,
            "fallback": f"{func.__module__}.{func.__qualname__}",
            "failure_policy": failure_policy,
        }

        def before(request: HttpRequest) -> None:
            charge_limit(request, limits, **options)

        async def abefore(request: HttpRequest) -> None:
            await acharge_limit(request, limits, **options)

        return _around(func, before, abefore)

    return decorate


def charge_limit(
    request: HttpRequest,
    limits: str,
    *,
    key: KeyKind | KeyFunc = "ip",
    name: str | None = None,
    fallback: str = "view",
    failure_policy: FailurePolicy | None = None,
) -> None:
    """Charge one hit of a rule from inside a view (sync; ``rate_limit`` and the mixin use it).

    Use it for a second limit whose key the view computes, e.g. a login limit per
    ``(client address, submitted email)`` next to the per-address ``@rate_limit``. The
    rate-limit headers go on the response (``BackendKitMiddleware`` adds them), as with the
    decorator.

    Args:
        request: the request (Django or DRF).
        limits: a limits string such as ``"5/minute"``.
        key: ``"ip"``, ``"user"`` or a function of the request returning the key, e.g.
            ``lambda r: f"login:{client_key(r)}:{email}"``.
        name: the rule name; give one when a view charges several rules.
        fallback: the rule name when ``name`` is ``None`` and the URL pattern is unknown.
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's policy (``"local_fallback"`` or ``"fail_closed"``
            for rules that guard credentials); ``None`` keeps the limiter's.

    Raises:
        RateLimited: the limit is exhausted (429 with ``Retry-After`` and the headers).
        ConfigurationError: the kit has no limiter, or ``key`` is another string.
        ValueError: ``limits`` does not parse.
    """
    kit = get_kit()
    if kit.limiter is None:
        raise ConfigurationError("rate_limit needs a limiter in the WebKit")
    rule = route_rule(limits, _rule_name(request, name, fallback), failure_policy)
    enforce_limit(kit.limiter, rule, _limit_key(request, key), get_cycle(request))


async def acharge_limit(
    request: HttpRequest,
    limits: str,
    *,
    key: KeyKind | KeyFunc = "ip",
    name: str | None = None,
    fallback: str = "view",
    failure_policy: FailurePolicy | None = None,
) -> None:
    """Async twin of [`charge_limit`][backendkit.adapters.django.charge_limit] (the async
    limiter when the kit has one, else the sync one)."""
    kit = get_kit()
    rule = route_rule(limits, _rule_name(request, name, fallback), failure_policy)
    bucket, cycle = _limit_key(request, key), get_cycle(request)
    if kit.async_limiter is not None:
        await aenforce_limit(kit.async_limiter, rule, bucket, cycle)
    elif kit.limiter is not None:
        # The sync limiter may do network I/O: off the event loop, as the middleware does.
        await sync_to_async(enforce_limit, thread_sensitive=False)(kit.limiter, rule, bucket, cycle)
    else:
        raise ConfigurationError("rate_limit needs a limiter in the WebKit")


# -- bodies ---------------------------------------------------------------------------------


def read_json(request: HttpRequest, model: type[BaseModel] | None = None) -> Any:
    """Read and parse ``request``'s JSON body through the core (used by ``json_body``).

    The body is read under ``MAX_BODY_BYTES`` (a declared ``Content-Length`` over it is
    refused before reading), its content type must be JSON, and it is parsed with
    [`parse_json`][backendkit.validation.parse_json]: malformed or too-deep JSON is a
    ``400 BAD_REQUEST``, never the ``RecursionError`` ``json.loads`` lets through.

    Raises:
        UnsupportedMediaType: not a JSON content type (415).
        PayloadTooLarge: over the cap (413).
        BadRequest: empty, malformed or too deep (400).
        ValidationFailed: ``model`` rejects the data (400, field-level details).
    """
    request = django_request(request)
    kit = get_kit()
    limit = kit.max_body_bytes
    content_type = request.META.get("CONTENT_TYPE")
    length = check_content_length(request.META.get("CONTENT_LENGTH"), limit)
    body = read_body(request.read, limit=limit, content_length=length)
    if model is None:
        return parse_body(body, content_type, max_bytes=limit)
    return parse_body(body, content_type, max_bytes=limit, model=model)


def json_body(model: type[BaseModel] | None = None, *, arg: str = "body") -> Callable[[V], V]:
    """Parse the JSON body (and validate it into ``model``) and pass it as ``arg``.

    Args:
        model: a pydantic model (an [`ApiModel`][backendkit.validation.ApiModel] accepts
            camelCase and snake_case keys); ``None`` passes the parsed JSON as it is.
        arg: the keyword argument the view receives it as.

    The view is exempt from ``CsrfViewMiddleware``: a cross-site form cannot send a JSON
    body, and anything else is refused with 415 before the view runs.

    Example:
        ```python
        @json_body(CreateUser)
        def create_user(request, body: CreateUser): ...
        ```
    """

    def decorate(func: V) -> V:
        if iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                kwargs[arg] = read_json(request, model)
                return await func(request, *args, **kwargs)

            return _csrf_exempt(cast(V, async_view))

        @functools.wraps(func)
        def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            kwargs[arg] = read_json(request, model)
            return func(request, *args, **kwargs)

        return _csrf_exempt(cast(V, sync_view))

    return decorate


# -- response headers -----------------------------------------------------------------------


def _after(view: V, after: Callable[[HttpRequest, Any], Any]) -> V:
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            return after(request, await view(request, *args, **kwargs))

        return cast(V, async_view)

    @functools.wraps(view)
    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return after(request, view(request, *args, **kwargs))

    return cast(V, sync_view)


def no_store(view: V) -> V:
    """Mark the response ``Cache-Control: no-store`` (login, refresh and other auth views)."""

    def after(request: HttpRequest, response: Any) -> Any:
        cycle = get_cycle(request)
        if cycle is not None:
            cycle.mark_no_store()
        elif isinstance(response, HttpResponseBase) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response

    return _after(view, after)


def http_cache(
    *,
    etag: bool = True,
    max_age: int | None = None,
    s_maxage: int | None = None,
    public: bool = False,
    private: bool = False,
    no_cache: bool = False,
    must_revalidate: bool = False,
    stale_while_revalidate: int | None = None,
) -> Callable[[V], V]:
    """Opt-in HTTP caching for a ``GET`` view: ``ETag``/``If-None-Match`` -> 304, ``Cache-Control``.

    The ETag is computed from the response body (so every worker agrees); a matching
    ``If-None-Match`` turns a 200 into a bodiless ``304 Not Modified``. Other statuses and
    methods pass through unchanged.

    Args:
        etag: add an ``ETag`` and answer conditional requests.
        max_age: ``Cache-Control: max-age``.
        s_maxage: ``s-maxage`` (shared caches, CDNs).
        public: ``public`` (cacheable by a CDN even with credentials).
        private: ``private`` (browser only).
        no_cache: ``no-cache`` (always revalidate; pairs well with the ETag).
        must_revalidate: ``must-revalidate``.
        stale_while_revalidate: ``stale-while-revalidate`` seconds.

    Example:
        ```python
        @http_cache(max_age=60, public=True)
        def catalogue(request): ...
        ```
    """
    directives = cache_control(
        max_age=max_age,
        s_maxage=s_maxage,
        public=public,
        private=private,
        no_cache=no_cache,
        must_revalidate=must_revalidate,
        stale_while_revalidate=stale_while_revalidate,
    )

    def after(request: HttpRequest, response: Any) -> Any:
        if not isinstance(response, HttpResponseBase) or response.streaming:
            return response
        if directives and response.status_code < 400 and not response.has_header("Cache-Control"):
            response["Cache-Control"] = directives
        if not etag:
            return response
        status, headers, _ = conditional(
            request.method or "GET",
            request.META.get("HTTP_IF_NONE_MATCH"),
            response.status_code,
            response.content,
        )
        if status == 304:
            not_modified = HttpResponseNotModified()
            for name in ("Cache-Control", "Vary"):
                if response.has_header(name):
                    not_modified[name] = response[name]
            response = not_modified
        for name, value in headers.items():
            response[name] = value
        return response

    def decorate(func: V) -> V:
        return _after(func, after)

    return decorate
