"""The request pipeline: every decision about a request, made once for every framework.

An adapter translates; the [`Pipeline`][backendkit.web.Pipeline] decides. For each request
the adapter calls, in this order:

1. [`start`][backendkit.web.Pipeline.start]: the request id, the log context and the
   response headers to come (a [`RequestCycle`][backendkit.web.RequestCycle]);
2. [`admit`][backendkit.web.Pipeline.admit]: the declared body size, then the app-wide
   default limit (API paths only, never the exempt health routes);
3. as the route asks: [`authorize`][backendkit.web.Pipeline.authorize] or
   [`principal`][backendkit.web.Pipeline.principal] (header or cookie, token, principal;
   looked at once per request) and [`charge`][backendkit.web.Pipeline.charge] (a
   [`RouteLimit`][backendkit.web.RouteLimit]; the most restrictive result's headers);
4. [`render`][backendkit.web.Pipeline.render] for whatever error escaped, then
   ``cycle.response_headers()`` and ``cycle.finish()``.

Each step that may do I/O (a limiter, a token store) has an async twin (``a`` prefix) that
shares its logic; only the I/O is doubled. The adapter describes its request through
[`RequestFacts`][backendkit.web.RequestFacts], a handful of reads.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from backendkit.errors import ConfigurationError, InvalidToken, Unauthenticated, to_app_error
from backendkit.logging import get_logger
from backendkit.responses import RenderedResponse
from backendkit.web._api_key_auth import (
    API_KEY_HEADER,
    Credential,
    aauthenticate_credential,
    authenticate_credential,
    request_credential,
)
from backendkit.web._auth import check_roles, check_scopes
from backendkit.web._body import check_content_length
from backendkit.web._cycle import HeaderReader, RequestCycle
from backendkit.web._errors import render_error
from backendkit.web._kit import WebKit
from backendkit.web._limits import (
    KeyKind,
    RouteLimit,
    aenforce_limit,
    enforce_limit,
    limit_key,
    route_rule,
)
from backendkit.web._observers import combine
from backendkit.web._principal import Principal

if TYPE_CHECKING:
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule

__all__ = ["Offload", "Pipeline", "RequestFacts", "client_key"]

T = TypeVar("T")

_NO_COOKIES: Mapping[str, str] = {}
_log = get_logger("backendkit.auth")

#: Runs a blocking call off the event loop (Django passes asgiref's ``sync_to_async``
#: shape): lets an async request use a kit that has only a sync limiter.
Offload = Callable[[Callable[[], T]], Awaitable[T]]


class RequestFacts(Protocol):
    """What the pipeline reads of a request. Each adapter implements it over its own request.

    Attributes:
        native: the framework's request object, handed to rate-limit key functions.
        method: the HTTP method.
        path: the request path, without the query string.
        peer: the TCP peer address (``REMOTE_ADDR``, the ASGI ``client``), if known.
    """

    @property
    def native(self) -> Any: ...

    @property
    def method(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def peer(self) -> str | None: ...

    def header(self, name: str) -> str | None:
        """A request header by name (any case); repeated headers joined with ``","``."""

    def cookies(self) -> Mapping[str, str]:
        """The request cookies."""

    def route(self) -> str:
        """The matched route's template (``/users/{id}``), or a stable stand-in for it."""

    def session_user(self) -> str | None:
        """The user of a framework session (Django's), when no token names one."""


def client_key(kit: WebKit, *, peer: str | None, forwarded: str | None) -> str:
    """The client address for rate-limit keys, behind ``kit``'s trusted proxies.

    IPv6 addresses are grouped by /64 (one subscriber owns a whole /64); a request
    without a usable address gives ``"unknown"``.

    Args:
        kit: the web kit (its ``ip_resolver``).
        peer: the TCP peer address (``REMOTE_ADDR``, the ASGI ``client``).
        forwarded: the value of ``kit.ip_resolver.header_name`` (``X-Forwarded-For`` by
            default), all occurrences joined with commas, or ``None``.
    """
    return kit.ip_resolver.client_key(peer, forwarded)


class Pipeline:
    """The decisions of every request to one app, built once when the adapter is installed.

    Args:
        kit: the settings and services.
        offload: how an async request runs a blocking call when the kit has only a sync
            limiter (``None``: an async request needs ``kit.async_limiter``).

    Example:
        >>> from backendkit.settings import Settings
        >>> pipeline = Pipeline(WebKit.from_settings(Settings(env="test", secret_key="k" * 32)))
        >>> from backendkit.errors import NotFound
        >>> rendered = pipeline.render(None, NotFound())
        >>> rendered.status, rendered.media_type
        (404, 'application/json')
    """

    __slots__ = ("_default_rule", "_exempt", "_observer", "_offload", "kit", "max_body_bytes")

    def __init__(self, kit: WebKit, *, offload: Offload[Any] | None = None) -> None:
        self.kit = kit
        #: The body cap (``settings.max_body_bytes``), read once: the kit is frozen.
        self.max_body_bytes = kit.max_body_bytes
        self._offload = offload
        self._observer = combine(kit.metrics, kit.tracing)
        default = kit.default_rate_limit
        self._default_rule: Rule | None = route_rule(default, "default") if default else None
        self._exempt: set[str] = set()

    # ---------------------------------------------------------------- the request cycle

    def start(
        self,
        *,
        method: str,
        path: str,
        request_id: str | None,
        headers: HeaderReader | None = None,
    ) -> RequestCycle:
        """Start a request: its id (the incoming ``X-Request-ID`` when safe), its log context
        and, with ``kit.metrics`` or ``kit.tracing``, its measurement and server span (the
        adapter then sets ``cycle.route``); ``headers`` reads the request's headers (an
        incoming ``traceparent`` continues its trace)."""
        cycle = RequestCycle.start(
            method=method, path=path, request_id_header=request_id, clock=self.kit.clock
        )
        observer = self._observer
        if observer is not None:
            cycle.observer = observer
            cycle.headers = headers
            observer.request_started(cycle)
        return cycle

    def exempt(self, path: str) -> None:
        """Never charge the app-wide default limit on ``path`` (health routes)."""
        self._exempt.add(path)

    def admits_without_checks(self, path: str, content_length: str | None) -> bool:
        """True when ``admit`` has nothing to do for this request (no declared body, no
        default limit on ``path``): a hot path may then skip describing the request."""
        # _default_rule_for's test, without its call: this runs on every request.
        return content_length is None and (
            self._default_rule is None or path in self._exempt or not self.kit.is_api_path(path)
        )

    def admit(self, cycle: RequestCycle, request: RequestFacts, content_length: str | None) -> None:
        """Before the route runs: refuse a declared body over the cap, charge the default limit.

        Raises:
            BadRequest: a malformed ``Content-Length``.
            PayloadTooLarge: the declared body is over ``settings.max_body_bytes``.
            RateLimited: the default limit is exhausted.
        """
        check_content_length(content_length, self.max_body_bytes)
        self.charge_default(cycle, request)

    async def aadmit(
        self, cycle: RequestCycle, request: RequestFacts, content_length: str | None
    ) -> None:
        """Async twin of [`admit`][backendkit.web.Pipeline.admit]."""
        check_content_length(content_length, self.max_body_bytes)
        await self.acharge_default(cycle, request)

    def charge_default(self, cycle: RequestCycle, request: RequestFacts) -> None:
        """Charge the app-wide default limit, per client address, where it applies."""
        rule = self._default_rule_for(request.path)
        if rule is not None:
            enforce_limit(self._limiter(), rule, self._address(request), cycle)

    async def acharge_default(self, cycle: RequestCycle, request: RequestFacts) -> None:
        """Async twin of [`charge_default`][backendkit.web.Pipeline.charge_default]."""
        rule = self._default_rule_for(request.path)
        if rule is not None:
            await self._acharge(rule, self._address(request), cycle, 1)

    def render(self, cycle: RequestCycle | None, exc: BaseException) -> RenderedResponse:
        """The error response for ``exc`` (an envelope or a problem document; logged once).

        ``cycle`` is ``None`` for a request that never started one (a view served without
        the adapter's middleware): the error then carries no request id.
        """
        kit = self.kit
        if cycle is not None and cycle.observer is not None:
            cycle.error_code = to_app_error(exc).code
        return render_error(
            exc,
            request_id=None if cycle is None else cycle.request_id,
            problem=kit.problem,
            user_id=None if cycle is None else cycle.user_id,
            retry_after=kit.settings.retry_after,
        )

    # ---------------------------------------------------------------- authentication

    def principal(self, cycle: RequestCycle, request: RequestFacts) -> Principal | None:
        """The caller, or ``None`` without credentials (verified once per request): a
        bearer token (header or cookie) or, with ``kit.api_keys``, an API key
        (``Authorization: ApiKey <key>`` or ``X-API-Key``).

        Raises:
            Unauthenticated: a malformed ``Authorization`` header, or both it and
                ``X-API-Key``.
            InvalidToken: credentials were sent but do not verify.
            Forbidden: a cookie-authenticated unsafe request failed the CSRF check.
        """
        if not cycle.authenticated:
            credential = self._credential(request)
            principal = (
                None if credential is None else authenticate_credential(self.kit, credential)
            )
            loader = self.kit.user_loader
            if principal is not None and loader is not None:
                record = loader(principal)
                if inspect.isawaitable(record):
                    _close(record)
                    raise ConfigurationError("an async user_loader needs an async app")
                principal = _with_user(principal, record)
            cycle.set_principal(principal)
        return cycle.principal

    async def aprincipal(self, cycle: RequestCycle, request: RequestFacts) -> Principal | None:
        """Async twin of [`principal`][backendkit.web.Pipeline.principal]."""
        if not cycle.authenticated:
            credential = self._credential(request)
            principal = (
                None if credential is None else await aauthenticate_credential(self.kit, credential)
            )
            loader = self.kit.user_loader
            if principal is not None and loader is not None:
                record = loader(principal)
                principal = _with_user(
                    principal, await record if inspect.isawaitable(record) else record
                )
            cycle.set_principal(principal)
        return cycle.principal

    def authorize(
        self,
        cycle: RequestCycle,
        request: RequestFacts,
        *,
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
    ) -> Principal:
        """The caller, who must hold one of ``roles`` and every one of ``scopes``.

        Raises:
            Unauthenticated: no credentials (401 with ``WWW-Authenticate: Bearer``).
            InvalidToken: the token does not verify.
            Forbidden: a role or scope is missing.
        """
        return _authorized(self.principal(cycle, request), roles, scopes)

    async def aauthorize(
        self,
        cycle: RequestCycle,
        request: RequestFacts,
        *,
        roles: Iterable[str] = (),
        scopes: Iterable[str] = (),
    ) -> Principal:
        """Async twin of [`authorize`][backendkit.web.Pipeline.authorize]."""
        return _authorized(await self.aprincipal(cycle, request), roles, scopes)

    # ---------------------------------------------------------------- route limits

    def charge(self, cycle: RequestCycle, request: RequestFacts, limit: RouteLimit) -> None:
        """Charge one route limit for this request.

        Raises:
            RateLimited: the limit is exhausted (429 with ``Retry-After`` and the headers
                of the most restrictive rule charged so far).
            ConfigurationError: the key function returned an awaitable (use ``acharge``).
        """
        if limit.bucket is not None:
            bucket = limit.bucket
        elif callable(limit.key):
            value = limit.key(request.native)
            if inspect.isawaitable(value):
                _close(value)
                raise ConfigurationError("an async rate-limit key needs an async view")
            bucket = str(value)
        else:
            user = self.principal(cycle, request) if limit.needs_user else None
            bucket = self._bucket(limit, request, user)
        rule = limit.rule(request.method, request.route())
        enforce_limit(self._limiter(), rule, bucket, cycle, cost=limit.cost)

    async def acharge(self, cycle: RequestCycle, request: RequestFacts, limit: RouteLimit) -> None:
        """Async twin of [`charge`][backendkit.web.Pipeline.charge] (key functions may be async)."""
        if limit.bucket is not None:
            bucket = limit.bucket
        elif callable(limit.key):
            value = limit.key(request.native)
            bucket = str(await value if inspect.isawaitable(value) else value)
        else:
            user = await self.aprincipal(cycle, request) if limit.needs_user else None
            bucket = self._bucket(limit, request, user)
        rule = limit.rule(request.method, request.route())
        await self._acharge(rule, bucket, cycle, limit.cost)

    def client_key(self, request: RequestFacts) -> str:
        """The request's client address as rate-limit keys use it (see ``client_key``)."""
        kit = self.kit
        return kit.ip_resolver.client_key(request.peer, request.header(kit.ip_resolver.header))

    # ---------------------------------------------------------------- internals

    def _default_rule_for(self, path: str) -> Rule | None:
        # Only the API is charged (kit.api_prefixes): probes and pages never are.
        if self._default_rule is None or path in self._exempt or not self.kit.is_api_path(path):
            return None
        return self._default_rule

    def _address(self, request: RequestFacts) -> str:
        return limit_key("ip", client_ip=self.client_key(request), user_id=None)

    def _bucket(self, limit: RouteLimit, request: RequestFacts, user: Principal | None) -> str:
        user_id = user.user_id if user is not None else request.session_user()
        kind: KeyKind = "user" if limit.needs_user else "ip"
        return limit_key(kind, client_ip=self.client_key(request), user_id=user_id)

    def _credential(self, request: RequestFacts) -> Credential | None:
        kit, cookies, headers = self.kit, _NO_COOKIES, {}
        cookie_auth = kit.cookie_auth
        if cookie_auth is not None:
            # Only the cookie transport reads cookies and the one CSRF header.
            cookies = request.cookies()
            csrf = request.header(cookie_auth.csrf_header)
            if csrf is not None:
                headers[cookie_auth.csrf_header] = csrf
        return request_credential(
            kit,
            method=request.method,
            authorization=request.header("authorization"),
            api_key=None if kit.api_keys is None else request.header(API_KEY_HEADER),
            cookies=cookies,
            headers=headers,
        )

    def _limiter(self) -> RateLimiter:
        if self.kit.limiter is None:
            raise ConfigurationError("rate limits need a limiter in the WebKit (limiter=...)")
        return self.kit.limiter

    async def _acharge(self, rule: Rule, bucket: str, cycle: RequestCycle, cost: int) -> None:
        limiter: AsyncRateLimiter | None = self.kit.async_limiter
        if limiter is not None:
            await aenforce_limit(limiter, rule, bucket, cycle, cost=cost)
        elif self._offload is not None and self.kit.limiter is not None:
            sync_limiter = self.kit.limiter
            await self._offload(lambda: enforce_limit(sync_limiter, rule, bucket, cycle, cost=cost))
        else:
            raise ConfigurationError(
                "rate limits in async views need an async_limiter in the WebKit"
            )


def _close(awaitable: Awaitable[Any]) -> None:
    # Never awaited: closed, not left to warn when it is collected.
    if inspect.iscoroutine(awaitable):
        awaitable.close()


def _with_user(principal: Principal, record: Any) -> Principal:
    if record is None:
        _log.info("token_user_missing", user_id=principal.user_id)
        raise InvalidToken()
    return principal.with_user(record)


def _authorized(
    principal: Principal | None, roles: Iterable[str], scopes: Iterable[str]
) -> Principal:
    if principal is None:
        raise Unauthenticated()
    check_roles(principal, roles)
    check_scopes(principal, scopes)
    return principal
