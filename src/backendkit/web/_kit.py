"""The bundle every adapter is built from: settings plus the optional services."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from backendkit.clientip import ClientIPResolver
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.web._build import ServiceBuilder
from backendkit.web._cycle import RequestObserver
from backendkit.web._limits import route_rule
from backendkit.web._principal import Principal

if TYPE_CHECKING:
    from backendkit.auth import ApiKeyService, OIDCVerifier, TokenService
    from backendkit.cache import Cache
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
    from backendkit.redis import AsyncRedisConnector, RedisConnector

__all__ = ["DEFAULT_API_PREFIXES", "CookieAuth", "UserLoader", "WebKit"]

#: Path prefixes served as the JSON API unless a kit says otherwise.
DEFAULT_API_PREFIXES: tuple[str, ...] = ("/api/",)

#: Loads the app's user record for a verified principal (``None``: the user is gone); may
#: be async under ASGI.
UserLoader = Callable[[Principal], Any]

#: The concurrency model of the framework a kit is installed into (see ``WebKit.check``).
Flavour = Literal["sync", "async"]


@dataclass(frozen=True, slots=True)
class CookieAuth:
    """Cookie transport for access tokens, protected by a CSRF double-submit check.

    With cookie transport on, a request without an ``Authorization`` header may carry its
    access token in ``access_cookie``. Because browsers send cookies on cross-site
    requests, every unsafe method (POST, PUT, PATCH, DELETE) must also echo the value of
    the ``csrf_cookie`` (readable by the page's script) in the ``csrf_header``; the two are
    compared in constant time.

    Attributes:
        access_cookie: name of the HttpOnly cookie holding the access token.
        csrf_cookie: name of the script-readable cookie holding the CSRF token.
        csrf_header: request header that must repeat the CSRF cookie on unsafe methods.
        secure: set the ``Secure`` attribute (turn off only for plain-HTTP development).
        samesite: the ``SameSite`` attribute.
        path: the cookies' ``Path``.
    """

    access_cookie: str = "access_token"
    csrf_cookie: str = "csrf_token"
    csrf_header: str = "X-CSRF-Token"
    secure: bool = True
    samesite: Literal["lax", "strict", "none"] = "lax"
    path: str = "/"


@dataclass(frozen=True, slots=True)
class WebKit:
    """Everything the adapters need, built once from [`Settings`][backendkit.settings.Settings].

    Build it with [`from_settings`][backendkit.web.WebKit.from_settings] and hand the same
    object to ``install(app, kit)`` (FastAPI), ``BackendKit(app, kit=kit)`` (Flask) or the
    Django settings. Sync adapters use ``tokens``/``limiter``; async ones use the async
    twins so that no Redis or bcrypt call blocks an event loop.

    Attributes:
        settings: the parsed settings.
        tokens: verifies access tokens (``None``: authentication is not configured).
        limiter: the sync rate limiter (WSGI adapters).
        async_limiter: the async rate limiter (ASGI adapters).
        cookie_auth: cookie transport with CSRF protection (``None``: Bearer header only).
        clock: the time source for request durations.
        ip_resolver: finds the client address behind trusted proxies (default: one
            trusting ``settings.trusted_proxies`` and reading ``X-Forwarded-For``).
        api_prefixes: path prefixes of the JSON API (default ``("/api/",)``). The
            app-wide default limit (``settings.rate_limit_default``) is charged only under
            them, so health probes, static files and pages are never throttled by it;
            ``("/",)`` charges every path. Django also scopes the error envelope and the
            body cap to them (``BACKENDKIT["API_PREFIXES"]`` sets this field).
        closers: called by [`close`][backendkit.web.WebKit.close] /
            [`aclose`][backendkit.web.WebKit.aclose] on shutdown (pools, connectors); async
            callables are awaited by ``aclose`` and skipped by ``close``.
        cache: the cache-aside store the settings describe (``None``: not configured).
        redis: the sync Redis connector the services share (``None``: no ``redis_url``),
            also for health checks.
        async_redis: its async twin.
        user_loader: called with each verified [`Principal`][backendkit.web.Principal] to
            load the app's user record, put on ``principal.user`` (an async function under
            ASGI). It returns ``None`` for a user that no longer exists: the request is
            then a ``401 INVALID_TOKEN``, as for a revoked token. ``None``: no loading.
            For a provider's token it receives a principal whose ``issuer`` and
            ``subject`` name the provider's user, and links it to a local one by
            returning a [`LinkedUser`][backendkit.web.LinkedUser].
        providers: identity providers whose access tokens are accepted beside the app's
            own (each an [`OIDCVerifier`][backendkit.auth.OIDCVerifier]); a token goes
            to the one its ``iss`` names, else to ``tokens``.
        metrics: request and component metrics (a
            [`Metrics`][backendkit.metrics.Metrics] of the ``metrics`` extra); it watches
            the kit's limiters, cache and Redis connectors as the kit is built. ``None``:
            nothing is measured, at no cost.
        api_keys: checks the API keys machine clients send as ``Authorization: ApiKey
            <key>`` or ``X-API-Key`` (an [`ApiKeyService`][backendkit.auth.ApiKeyService]);
            ``None``: API keys are not accepted.
        tracing: a server span per request and child spans for the kit's Redis commands
            (a [`Tracing`][backendkit.tracing.Tracing] of the ``otel`` extra). ``None``:
            nothing is traced, at no cost.
    """

    settings: Settings
    tokens: TokenService | None = None
    limiter: RateLimiter | None = None
    async_limiter: AsyncRateLimiter | None = None
    cookie_auth: CookieAuth | None = None
    clock: Clock = system_clock
    closers: Sequence[Callable[[], Any]] = field(default_factory=tuple)
    ip_resolver: ClientIPResolver = field(default=None)  # type: ignore[assignment]
    api_prefixes: tuple[str, ...] = DEFAULT_API_PREFIXES
    cache: Cache | None = None
    redis: RedisConnector | None = None
    async_redis: AsyncRedisConnector | None = None
    user_loader: UserLoader | None = None
    providers: Sequence[OIDCVerifier] = ()
    metrics: RequestObserver | None = None
    api_keys: ApiKeyService | None = None
    tracing: RequestObserver | None = None

    def __post_init__(self) -> None:
        if self.ip_resolver is None:
            # Frozen dataclass: the default resolver is derived once, here.
            object.__setattr__(self, "ip_resolver", ClientIPResolver.from_settings(self.settings))
        prefixes = self.api_prefixes
        if isinstance(prefixes, str) or not all(
            isinstance(p, str) and p.startswith("/") for p in prefixes
        ):
            raise ConfigurationError("api_prefixes must be a sequence of paths starting with '/'")
        # A list is accepted; stored as a tuple so str.startswith takes it as it is.
        object.__setattr__(self, "api_prefixes", tuple(prefixes))
        object.__setattr__(self, "providers", tuple(self.providers))
        issuers = [provider.issuer for provider in self.providers]
        own = getattr(self.tokens, "issuer", None)
        if own is not None:
            issuers.append(own)
        if len(set(issuers)) != len(issuers):
            raise ConfigurationError("two token verifiers of a WebKit have the same issuer")
        if self.settings.rate_limit_default:
            # Parsed now so that a typo stops the start, not every API request later.
            try:
                route_rule(self.settings.rate_limit_default, "default")
            except ValueError:
                raise ConfigurationError(
                    "BACKENDKIT_RATE_LIMIT_DEFAULT (rate_limit_default) must use the limits "
                    "syntax, e.g. '100/minute' or '10/second;1000/hour'"
                ) from None
        if self.metrics is not None:
            self.metrics.attach(self)
        if self.tracing is not None:
            self.tracing.attach(self)

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        tokens: TokenService | None = None,
        limiter: RateLimiter | None = None,
        async_limiter: AsyncRateLimiter | None = None,
        cache: Cache | None = None,
        cookie_auth: CookieAuth | None = None,
        clock: Clock = system_clock,
        closers: Sequence[Callable[[], Any]] = (),
        ip_resolver: ClientIPResolver | None = None,
        api_prefixes: Sequence[str] = DEFAULT_API_PREFIXES,
        redis: RedisConnector | None = None,
        async_redis: AsyncRedisConnector | None = None,
        redis_key_prefix: str = "backendkit:",
        token_options: Mapping[str, Any] | None = None,
        user_loader: UserLoader | None = None,
        providers: Sequence[OIDCVerifier] = (),
        metrics: RequestObserver | None = None,
        api_keys: ApiKeyService | None = None,
        tracing: RequestObserver | None = None,
    ) -> WebKit:
        """Build a kit and the services its settings describe.

        ``settings`` defaults to ``Settings.from_env()``. Every service not passed in is
        built from the settings (an explicit argument always wins):

        - **Redis**: with ``redis_url`` set, one
          [`RedisConnector`][backendkit.redis.RedisConnector] and one
          [`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector] (nothing connects
          yet), shared by the limiters, the token store and the cache; their keys start with
          ``redis_key_prefix`` followed by ``rl:``, ``tokens:`` and ``cache:``. Connectors
          passed as ``redis``/``async_redis`` are used instead of new ones (and left open
          by the kit). Without ``redis_url``, every service keeps its state in memory (one
          process only).
        - **Limiters**: a [`RateLimiter`][backendkit.ratelimit.RateLimiter] and an
          [`AsyncRateLimiter`][backendkit.ratelimit.AsyncRateLimiter] (sync frameworks use
          the first, ASGI ones the second) when the ``ratelimit`` extra is installed.
        - **Token service**: built by
          [`TokenService.from_settings`][backendkit.auth.TokenService.from_settings]
          when the ``auth`` extra is installed. The settings always describe one then:
          ``jwt_secret``, else keys derived from ``secret_key``, else (development and test
          only, since production requires ``secret_key``) a publicly known development key,
          which logs one ``development_signing_key`` warning per process.
          ``token_options`` go to it (e.g. ``{"check_revocation": True}``).
        - **Cache**: a [`Cache`][backendkit.cache.Cache] on the same backend.
        - **Metrics**: none unless ``metrics`` is passed (``Metrics(registry)``); it then
          measures every request and watches the services built here.
        - **Tracing**: none unless ``tracing`` is passed (``Tracing()``); it then traces
          every request and the Redis commands of the connectors built here.

        Everything built here is closed by [`close`][backendkit.web.WebKit.close] /
        [`aclose`][backendkit.web.WebKit.aclose]; what was passed in is closed too (the
        limiters, the token store, the cache and ``closers``), as before.

        Raises:
            ConfigurationError: an invalid setting or argument.
            MissingDependencyError: ``redis_url`` without the ``redis`` extra,
                ``rate_limit_default`` without the ``ratelimit`` extra, or ``jwt_secret``
                without the ``auth`` extra; the message names the extra to install.

        Example:
            >>> settings = Settings(env="test", secret_key="k" * 32, max_body_bytes=1024)
            >>> kit = WebKit.from_settings(settings)
            >>> kit.max_body_bytes, kit.problem
            (1024, False)
            >>> type(kit.limiter).__name__, type(kit.async_limiter).__name__, kit.cache.name
            ('RateLimiter', 'AsyncRateLimiter', 'cache')
        """
        if isinstance(api_prefixes, str):  # tuple("/api/") would be its characters
            raise ConfigurationError("api_prefixes must be a sequence of paths, not a string")
        settings = settings if settings is not None else Settings.from_env()
        built = ServiceBuilder(
            settings, clock, redis_key_prefix, (redis, async_redis), token_options
        )
        return cls(
            settings=settings,
            tokens=tokens if tokens is not None else built.tokens(),
            limiter=limiter if limiter is not None else built.limiter(),
            async_limiter=async_limiter if async_limiter is not None else built.async_limiter(),
            cache=cache if cache is not None else built.cache(),
            cookie_auth=cookie_auth,
            clock=clock,
            closers=(*closers, *built.closers()),
            ip_resolver=ip_resolver,  # type: ignore[arg-type]
            api_prefixes=tuple(api_prefixes),
            redis=built.sync_redis,
            async_redis=built.async_redis,
            user_loader=user_loader,
            providers=tuple(providers),
            metrics=metrics,
            api_keys=api_keys,
            tracing=tracing,
        )

    def check(self, flavour: Flavour) -> None:
        """Refuse a kit that cannot do what it is configured to do (called by the adapters).

        ``install`` (FastAPI, ``"async"``), ``init_app`` (Flask, ``"sync"``) and the Django
        middleware and system checks (``"sync"``) call it, so the mistake stops the start
        instead of failing every request.

        Raises:
            ConfigurationError: ``rate_limit_default`` without the limiter ``flavour`` needs
                (``limiter`` for sync, ``async_limiter`` for async), cookie transport or a
                ``jwt_secret`` without a token service, or an API-key store that cannot
                serve ``flavour``; the message names the setting.
        """
        if self.api_keys is not None and not self.api_keys.supports(flavour):
            raise ConfigurationError(
                f"the WebKit's api_keys store cannot serve {flavour} requests: give this "
                f"app an API-key store with {flavour} methods"
            )
        if self.default_rate_limit:
            field_name = "async_limiter" if flavour == "async" else "limiter"
            if getattr(self, field_name) is None:
                raise ConfigurationError(
                    "BACKENDKIT_RATE_LIMIT_DEFAULT (rate_limit_default) is set but the WebKit "
                    f"has no {field_name}: build it with WebKit.from_settings (which builds "
                    f"one) or pass {field_name}=..."
                )
        if self.tokens is None:
            if self.cookie_auth is not None:
                raise ConfigurationError(
                    "cookie_auth authenticates requests but the WebKit has no token service: "
                    "install backendkit[auth] and build it with WebKit.from_settings, or pass "
                    "tokens=..."
                )
            if self.settings.jwt_secret is not None:
                raise ConfigurationError(
                    "BACKENDKIT_JWT_SECRET (jwt_secret) is set but the WebKit has no token "
                    "service: build it with WebKit.from_settings or pass tokens=..."
                )

    @property
    def max_body_bytes(self) -> int:
        """The largest accepted request body (``settings.max_body_bytes``)."""
        return self.settings.max_body_bytes

    @property
    def problem(self) -> bool:
        """Whether errors are rendered as RFC 9457 problem details."""
        return self.settings.error_format == "problem"

    @property
    def default_rate_limit(self) -> str | None:
        """The app-wide default limit (``settings.rate_limit_default``), e.g. ``"100/minute"``."""
        return self.settings.rate_limit_default

    def is_api_path(self, path: str) -> bool:
        """True when ``path`` is under one of ``api_prefixes`` (where the default limit applies).

        Example:
            >>> kit = WebKit.from_settings(Settings(env="test", secret_key="k" * 32))
            >>> kit.is_api_path("/api/users"), kit.is_api_path("/health")
            (True, False)
        """
        return path.startswith(self.api_prefixes)

    def _targets(self) -> list[Any]:
        # The token service holds no connections itself; its store may. The connectors
        # from_settings built come last (in closers): the services above only borrow them.
        store = getattr(self.tokens, "store", None)
        # The metrics first: a worker's last values are written while its services stand.
        return [self.metrics, self.limiter, self.async_limiter, store, self.cache, *self.closers]

    def close(self) -> None:
        """Close the limiters, the token store, the cache and the sync closers (WSGI
        shutdown hooks)."""
        for target in self._targets():
            closer = _closer(target, ("close",))
            if closer is not None:
                result = closer()
                if inspect.isawaitable(result):  # an async closer: only aclose() runs it
                    _discard(result)

    async def aclose(self) -> None:
        """Close every service, preferring ``aclose()`` and awaiting async closers (ASGI
        lifespan shutdown)."""
        for target in self._targets():
            closer = _closer(target, ("aclose", "close"))
            if closer is not None:
                result = closer()
                if inspect.isawaitable(result):
                    await result


def _closer(target: Any, names: tuple[str, ...]) -> Callable[[], Any] | None:
    if target is None:
        return None
    for name in names:
        method = getattr(target, name, None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    return target if callable(target) else None


def _discard(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if callable(close):  # a coroutine never awaited would warn
        close()
