"""The FastAPI adapter's pure ASGI layers (no ``BaseHTTPMiddleware``) and request facts.

The outer middleware owns each request's cycle and leaves it in the scope, with the
pipeline, for the route's dependencies (``Facts``); nothing comes back from them.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger
from backendkit.responses import RenderedResponse
from backendkit.web import BodyBudget, Pipeline, RequestCycle, WebKit

__all__ = ["BackendKitMiddleware", "ErrorCatcher", "Facts", "response"]

Message = MutableMapping[str, Any]

_PIPELINE, _CYCLE = "backendkit.pipeline", "backendkit.cycle"  # scope keys
_log = get_logger("backendkit.web")
_LATE = "unhandled_exception_after_response_started"


class Facts:
    """[`RequestFacts`][backendkit.web.RequestFacts] over a Starlette (FastAPI) request, with
    the pipeline and cycle the middleware left in its scope (else ``ConfigurationError``)."""

    __slots__ = ("cycle", "method", "native", "path", "peer", "pipeline")

    def __init__(self, request: Request) -> None:
        scope = request.scope
        if _CYCLE not in scope:
            raise ConfigurationError("call backendkit.adapters.fastapi.install(app, kit) first")
        client = scope.get("client")
        self.pipeline: Pipeline = scope[_PIPELINE]
        self.cycle: RequestCycle = scope[_CYCLE]
        self.native = request
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.peer: str | None = client[0] if client else None

    # RequestFacts documents each read.
    def header(self, name: str) -> str | None:
        return ",".join(self.native.headers.getlist(name)) or None

    def cookies(self) -> Mapping[str, str]:
        return self.native.cookies

    def route(self) -> str:  # the matched route's template once routed
        return getattr(self.native.scope.get("route"), "path", None) or self.path

    def session_user(self) -> None:
        return None


class BackendKitMiddleware:
    """Outermost ASGI middleware: one request's cycle, from its first byte to the access log.

    It starts the cycle (request id, log context), admits the request (declared body
    size, app-wide default limit), counts the body bytes as they arrive (Starlette has no
    cap of its own), adds the cycle's headers to the response, renders what escapes while
    no response has started (logs it otherwise) and finishes the cycle. ``install`` puts
    it around the whole stack; by hand it wraps any ASGI app, default limit included:
    ``app = BackendKitMiddleware(app, kit)``, after
    [`WebKit.check`][backendkit.web.WebKit.check] as ``install`` does.
    """

    def __init__(self, app: Any, kit: WebKit | Pipeline) -> None:
        if isinstance(kit, WebKit):
            kit.check("async")
            kit = Pipeline(kit)
        self.app, self.pipeline = app, kit
        self._max_body = kit.kit.max_body_bytes  # the kit is frozen: read once

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Run one ASGI connection (HTTP requests only; others pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pipeline = self.pipeline
        request_id = length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")
        cycle = pipeline.start(method=scope["method"], path=scope["path"], request_id=request_id)
        scope[_PIPELINE], scope[_CYCLE] = pipeline, cycle
        budget = BodyBudget(self._max_body)

        async def counted_receive() -> Message:
            message: Message = await receive()
            budget.add(len(message.get("body", b"")))
            return message

        async def decorated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                cycle.status = message["status"]  # the response has started
                message["headers"] = cycle.asgi_headers(message.get("headers", ()))
            await send(message)

        try:
            await pipeline.aadmit(cycle, Facts(Request(scope)), length)
            await self.app(scope, counted_receive, decorated_send)
        except Exception as exc:
            if cycle.status is None:
                await response(pipeline.render(cycle, exc))(scope, receive, decorated_send)
            else:  # the response is on the wire: only the log is left
                _log.error(_LATE, exc_info=exc, request_id=cycle.request_id, user_id=cycle.user_id)
        finally:
            cycle.finish()


class ErrorCatcher:
    """Innermost user middleware: a route's unexpected error becomes the 500 envelope here,
    which then travels back through every user middleware (CORS headers included)."""

    def __init__(self, app: Any, pipeline: Pipeline) -> None:
        self.app, self.pipeline = app, pipeline

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Run the app; render what escapes it while no response has started."""
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or _CYCLE not in scope:
                raise
            await response(self.pipeline.render(scope[_CYCLE], exc))(scope, receive, send)


def response(rendered: RenderedResponse) -> Response:
    """A Starlette response (an ASGI app too) for a rendered envelope."""
    headers, media_type = dict(rendered.headers), rendered.media_type
    return Response(rendered.body, rendered.status, headers, media_type)
