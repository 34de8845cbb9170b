"""One HTTP request's life: request id, log context, response headers, one access-log event.

Adapters create a [`RequestCycle`][backendkit.web.RequestCycle] as the first thing a
request meets and call [`finish`][backendkit.web.RequestCycle.finish] as the last, so every
log line in between (including code run in worker threads, which inherit the context)
carries the request id, and exactly one ``request_completed`` event is logged.

A kit with request metrics gives each cycle its
[`RequestObserver`][backendkit.web.RequestObserver] (the ``metrics`` extra's ``Metrics``,
never imported here): told when the request starts and finishes, by which time the cycle
holds the method, the route template the adapter matched, the status, the catalogue code
of a rendered error and the duration. Without one the cycle checks one attribute.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from backendkit.clock import Clock, system_clock
from backendkit.logging import (
    accept_request_id,
    bind_request_context,
    clear_request_context,
    new_request_id,
)
from backendkit.logging._context import start_request_context
from backendkit.logging._hot import HotLogger
from backendkit.web._headers import (
    JSON_CONTENT_TYPE,
    NO_STORE,
    REQUEST_ID_HEADER,
    SECURITY_HEADERS,
)
from backendkit.web._limit_headers import limit_headers

if TYPE_CHECKING:
    from backendkit.ratelimit import RateLimitResult
    from backendkit.web._principal import Principal

__all__ = ["HeaderReader", "RequestCycle", "RequestObserver"]

#: Reads one request header by name, any case (repeats joined with ``","``); ``None``: absent.
HeaderReader = Callable[[str], "str | None"]

_access_log = HotLogger("backendkit.access")

# Encoded once: asgi_headers runs on every response.
_RAW_REQUEST_ID = REQUEST_ID_HEADER.lower().encode("latin-1")
_RAW_SECURITY_HEADERS = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in SECURITY_HEADERS.items()
)
_RAW_NO_STORE = NO_STORE.encode("latin-1")
_SECURITY_PAIRS = tuple(SECURITY_HEADERS.items())
_JSON = b"application/json"
_JSON_UTF8 = b"application/json; charset=utf-8"


class RequestObserver(Protocol):
    """Request metrics or tracing, as the pipeline and the cycle call them
    (``WebKit(metrics=..., tracing=...)``; with both, each is told in that order)."""

    def attach(self, kit: Any) -> None:
        """Watch the services the [`WebKit`][backendkit.web.WebKit] ``kit`` holds (its
        limiters, cache and Redis connectors); called as the kit is built, idempotent."""

    def request_started(self, cycle: RequestCycle) -> None:
        """A request began (``cycle.observer`` is this observer)."""

    def request_finished(self, cycle: RequestCycle) -> None:
        """The request ended: its status, route, error code and duration are final."""

    def request_dropped(self, cycle: RequestCycle) -> None:
        """A started request is not to be counted (the metrics and health routes)."""


class RequestCycle:
    """State of one request from its first byte to the access-log line.

    Attributes:
        request_id: the accepted incoming ``X-Request-ID`` or a new one.
        method: the HTTP method.
        path: the request path (no query string: it may carry secrets).
        user_id: the authenticated user, once known.
        no_store: whether the response must carry ``Cache-Control: no-store``.
        status: the response status, once known.
        extra_headers: headers decided during the request for whatever response is sent,
            added by [`response_headers`][backendkit.web.RequestCycle.response_headers].
        limit_results: every rate-limit decision charged for this request, in order; the
            response carries the headers of the most restrictive one
            ([`limit_headers`][backendkit.web.limit_headers]).
        principal: the caller, once the pipeline has looked at the credentials
            (``authenticated`` says whether it has; ``None`` then means anonymous).
        authenticated: whether the credentials were looked at (they are, once a request).
        observer: the kit's request metrics, told when the request finishes (``None``:
            not measured; the pipeline sets it when the request starts).
        route: the matched route's template (``/users/{id}``), which the adapter sets for
            an observed request before it finishes; ``None``: no route matched.
        error_code: the catalogue code of the error rendered for an observed request.
        headers: reads a request header by name (any case), for an observed request: how
            tracing finds an incoming ``traceparent``; ``None`` otherwise.
        trace: what request tracing keeps for this request (its span), else ``None``.
    """

    __slots__ = (
        "_finished",
        "_monotonic",
        "_started",
        "authenticated",
        "error_code",
        "extra_headers",
        "headers",
        "limit_results",
        "method",
        "no_store",
        "observer",
        "path",
        "principal",
        "request_id",
        "route",
        "status",
        "trace",
        "user_id",
    )

    def __init__(
        self,
        method: str,
        path: str,
        request_id: str,
        clock: Clock = system_clock,
    ) -> None:
        self.method = method
        self.path = path
        self.request_id = request_id
        self.user_id: str | None = None
        self.no_store = False
        self.status: int | None = None
        self.extra_headers: dict[str, str] = {}
        self.limit_results: list[RateLimitResult] = []
        self.principal: Principal | None = None
        self.authenticated = False
        self.observer: RequestObserver | None = None
        self.route: str | None = None
        self.error_code: str | None = None
        self.headers: HeaderReader | None = None
        self.trace: Any = None
        # The system clock's own function when it is the clock: one call less, twice a request.
        self._monotonic = time.monotonic if clock is system_clock else clock.monotonic
        self._started = self._monotonic()
        self._finished = False

    @classmethod
    def start(
        cls,
        *,
        method: str,
        path: str,
        request_id_header: str | None,
        clock: Clock = system_clock,
    ) -> RequestCycle:
        """Accept or create the request id and bind it (with method and path) to the log context.

        Args:
            method: the HTTP method.
            path: the request path without the query string.
            request_id_header: the incoming ``X-Request-ID`` value, if any; an unsafe value
                is replaced by a new id.
            clock: where the duration is measured from.
        """
        request_id = (
            new_request_id() if request_id_header is None else accept_request_id(request_id_header)
        )
        # Positional: a class called with keywords builds a dict of them on every request.
        cycle = cls(method, path, request_id, clock)
        start_request_context(request_id=cycle.request_id, method=method, path=path)
        return cycle

    def set_principal(self, principal: Principal | None) -> None:
        """Record what the credentials gave: a caller (see ``set_user``) or ``None``."""
        self.principal = principal
        self.authenticated = True
        if principal is not None:
            self.set_user(principal.user_id)

    def set_user(self, user_id: str) -> None:
        """Record the authenticated user: bound to the log context, and the response is no-store."""
        self.user_id = user_id
        self.no_store = True
        bind_request_context(user_id=user_id)

    def mark_no_store(self) -> None:
        """Make the response ``Cache-Control: no-store`` (login, refresh and other auth routes)."""
        self.no_store = True

    def add_headers(self, headers: dict[str, str]) -> None:
        """Add headers to the eventual response (success or error alike)."""
        self.extra_headers.update(headers)

    def add_limit_result(self, result: RateLimitResult) -> dict[str, str]:
        """Record one rate-limit decision charged for this request.

        Returns:
            The rate-limit headers the response now carries: those of the most
            restrictive decision so far (on a denial, the denying one), whatever order
            the rules were charged in.
        """
        self.limit_results.append(result)
        headers = limit_headers(self.limit_results)
        if len(self.limit_results) > 1:
            # The previous choice's headers go: a rule's numbers are never mixed with
            # another's (a fail_closed denial carries no quota of its own).
            for name in limit_headers(self.limit_results[:-1]):
                self.extra_headers.pop(name, None)
        self.extra_headers.update(headers)
        return headers

    def response_headers(self, existing: Iterable[str] = ()) -> dict[str, str]:
        """Headers to add to the response.

        Args:
            existing: names of the headers the response already has (any case); a
                ``Cache-Control`` the route set itself is kept.

        Returns:
            ``X-Request-ID``, the security headers and, when marked, ``Cache-Control: no-store``.
        """
        present = {name.lower() for name in existing}
        headers = {REQUEST_ID_HEADER: self.request_id}
        for name, value in self.extra_headers.items():
            if name.lower() not in present:
                headers[name] = value
        for name, value in SECURITY_HEADERS.items():
            if name.lower() not in present:
                headers[name] = value
        if self.no_store and "cache-control" not in present:
            headers["Cache-Control"] = NO_STORE
        return headers

    def asgi_headers(self, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """An ASGI response's raw headers with this cycle's headers added.

        The same headers as [`response_headers`][backendkit.web.RequestCycle.response_headers],
        already encoded; an ``X-Request-ID`` the route set is replaced by the cycle's, and
        a bare ``application/json`` content type gets its charset stated.

        Args:
            headers: the ``(name, value)`` byte pairs of the ``http.response.start`` message.
        """
        out: list[tuple[bytes, bytes]] = []
        present: set[bytes] = set()
        for pair in headers:
            lowered = pair[0].lower()
            if lowered == _RAW_REQUEST_ID:
                continue  # the cycle's id replaces one the route set, as in every adapter
            present.add(lowered)
            # The pair itself unless it changes: no new tuple per header.
            out.append(
                (pair[0], _JSON_UTF8) if lowered == b"content-type" and pair[1] == _JSON else pair
            )
        out.append((_RAW_REQUEST_ID, self.request_id.encode("latin-1")))
        if self.extra_headers:  # most responses have none: no loop to set up
            for name_text, value_text in self.extra_headers.items():
                raw_name = name_text.lower().encode("latin-1")
                if raw_name not in present:
                    out.append((raw_name, value_text.encode("latin-1")))
        for raw_name, raw_value in _RAW_SECURITY_HEADERS:
            if raw_name not in present:
                out.append((raw_name, raw_value))
        if self.no_store and b"cache-control" not in present:
            out.append((b"cache-control", _RAW_NO_STORE))
        return out

    def wsgi_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """A WSGI response's headers (``start_response``'s) with this cycle's headers added:
        [`asgi_headers`][backendkit.web.RequestCycle.asgi_headers] for text pairs, with the
        names spelled as [`response_headers`][backendkit.web.RequestCycle.response_headers]
        spells them."""
        out: list[tuple[str, str]] = []
        present: set[str] = set()
        for pair in headers:
            lowered = pair[0].lower()
            if lowered == "x-request-id":
                continue  # the cycle's id replaces one the route set
            present.add(lowered)
            out.append(
                (pair[0], JSON_CONTENT_TYPE)
                if lowered == "content-type" and pair[1] == "application/json"
                else pair
            )
        out.append((REQUEST_ID_HEADER, self.request_id))
        if self.extra_headers:
            out.extend((n, v) for n, v in self.extra_headers.items() if n.lower() not in present)
        for name, value in _SECURITY_PAIRS:
            if name.lower() not in present:
                out.append((name, value))
        if self.no_store and "cache-control" not in present:
            out.append(("Cache-Control", NO_STORE))
        return out

    def unobserve(self) -> None:
        """Leave this request out of the request metrics (the metrics and health routes)."""
        observer = self.observer
        if observer is not None:
            self.observer = None
            observer.request_dropped(self)

    @property
    def elapsed(self) -> float:
        """Seconds since the cycle started (monotonic)."""
        return self._monotonic() - self._started

    @property
    def duration_ms(self) -> float:
        """Milliseconds since the cycle started."""
        return round((self._monotonic() - self._started) * 1000.0, 3)

    def finish(self, status: int | None = None) -> None:
        """Log the one access-log event and clear the log context (idempotent).

        Args:
            status: the response status; defaults to the recorded ``status``, else 500.
        """
        if self._finished:
            return
        self._finished = True
        if status is not None:
            self.status = status
        if self.observer is not None:
            self.observer.request_finished(self)
        if not _access_log.drops_info():  # a filtered-out line is not even built
            _access_log.info(
                "request_completed",
                method=self.method,
                path=self.path,
                status=self.status if self.status is not None else 500,
                duration_ms=self.duration_ms,
                user_id=self.user_id,
                request_id=self.request_id,
            )
        clear_request_context()
