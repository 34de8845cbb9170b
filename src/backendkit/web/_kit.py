"""The bundle every adapter is built from: settings plus the optional services."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from backendkit.clientip import ClientIPResolver
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings

if TYPE_CHECKING:
    from backendkit.auth import TokenService
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter

__all__ = ["DEFAULT_API_PREFIXES", "CookieAuth", "WebKit"]

#: Path prefixes served as the JSON API unless a kit says otherwise.
DEFAULT_API_PREFIXES: tuple[str, ...] = ("/api/",)


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
        if self.settings.rate_limit_default:
            # Parsed now so that a typo stops the start, not every API request later.
            from backendkit.web._ratelimit import route_rule

            try:
                route_rule(self.settings.rate_limit_default, "default")
            except ValueError:
                raise ConfigurationError(
                    "BACKENDKIT_RATE_LIMIT_DEFAULT (rate_limit_default) must use the limits "
                    "syntax, e.g. '100/minute' or '10/second;1000/hour'"
                ) from None

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        tokens: TokenService | None = None,
        limiter: RateLimiter | None = None,
        async_limiter: AsyncRateLimiter | None = None,
        cookie_auth: CookieAuth | None = None,
        clock: Clock = system_clock,
        closers: Sequence[Callable[[], Any]] = (),
        ip_resolver: ClientIPResolver | None = None,
        api_prefixes: Sequence[str] = DEFAULT_API_PREFIXES,
    ) -> WebKit:
        """Build a kit; ``settings`` defaults to ``Settings.from_env()``.

        Example:
            >>> kit = WebKit.from_settings(Settings(env="test", max_body_bytes=1024))
            >>> kit.max_body_bytes, kit.problem
            (1024, False)
        """
        if isinstance(api_prefixes, str):  # tuple("/api/") would be its characters
            raise ConfigurationError("api_prefixes must be a sequence of paths, not a string")
        return cls(
            settings=settings if settings is not None else Settings.from_env(),
            tokens=tokens,
            limiter=limiter,
            async_limiter=async_limiter,
            cookie_auth=cookie_auth,
            clock=clock,
            closers=tuple(closers),
            ip_resolver=ip_resolver,  # type: ignore[arg-type]
            api_prefixes=tuple(api_prefixes),
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
            >>> kit = WebKit.from_settings(Settings(env="test"))
            >>> kit.is_api_path("/api/users"), kit.is_api_path("/health")
            (True, False)
        """
        return path.startswith(self.api_prefixes)

    def _targets(self) -> list[Any]:
        # The token service holds no connections itself; its store may.
        store = getattr(self.tokens, "store", None)
        return [self.limiter, self.async_limiter, store, *self.closers]

    def close(self) -> None:
        """Close the limiter, the token store and the sync closers (WSGI shutdown hooks)."""
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
