"""The FastAPI adapter's pure ASGI layers and request facts: the outer middleware owns each
request's cycle and leaves it in the scope, with the pipeline, for the route's dependencies
(``Facts``); nothing comes back from them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backendkit.errors import ConfigurationError
from backendkit.responses import RenderedResponse
from backendkit.web import AsgiCycle, Pipeline, RequestCycle, WebKit

__all__ = ["BackendKitMiddleware", "ErrorCatcher", "Facts", "response", "route_template"]

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

# Scope keys: the pipeline, the cycle and the outer layer's send.
_PIPELINE, _CYCLE, _SEND = "backendkit.pipeline", "backendkit.cycle", "backendkit.send"


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
    """Outermost ASGI middleware: one request's [`AsgiCycle`][backendkit.web.AsgiCycle],
    admitted by the pipeline (body cap, default limit), from its first byte to the access
    log. ``install`` puts it around the whole stack; by hand it wraps any ASGI app:
    ``app = BackendKitMiddleware(app, kit)`` (the kit checked as ``install`` does)."""

    def __init__(self, app: Any, kit: WebKit | Pipeline) -> None:
        if isinstance(kit, WebKit):
            kit.check("async")
            kit = Pipeline(kit)
        self.app, self.pipeline = app, kit

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Run one ASGI connection (HTTP requests only; others pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pipeline, asgi = self.pipeline, AsgiCycle(self.pipeline, scope)
        cycle, send = asgi.cycle, asgi.send(send)
        scope[_PIPELINE], scope[_CYCLE], scope[_SEND] = pipeline, cycle, send
        try:
            if not pipeline.admits_without_checks(scope["path"], asgi.content_length):
                await pipeline.aadmit(cycle, Facts(Request(scope)), asgi.content_length)
            await self.app(scope, asgi.receive(receive), send)
        except Exception as exc:
            if not asgi.started:
                await response(pipeline.render(cycle, exc))(scope, receive, send)
            else:  # the response is on the wire: only the log is left
                asgi.late_error(exc)
        finally:
            # The server's scope holds its own send (through ours): left in place, the pair is
            # a reference cycle, and every request would leave its scope to the garbage
            # collector instead of freeing it at once.
            del scope[_SEND]
            if cycle.observer is not None:
                cycle.route = route_template(scope)
            cycle.finish()


class ErrorCatcher:
    """Innermost user middleware: a route's unexpected error becomes the 500 envelope here,
    which then travels back through every user middleware (CORS headers included)."""

    def __init__(self, app: Any, pipeline: Pipeline) -> None:
        self.app, self.pipeline = app, pipeline

    async def __call__(self, scope: Message, receive: Any, send: Send) -> None:
        """Run the app; render what escapes it while no response has started."""
        if scope.get(_SEND) is send:
            # Nothing between this layer and the outer one holds messages back: the cycle's
            # status says whether the response started, and no wrapper has to watch.
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                cycle: RequestCycle = scope[_CYCLE]
                if cycle.status is not None:
                    raise
                await response(self.pipeline.render(cycle, exc))(scope, receive, send)
            return
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


def route_template(scope: Message) -> str | None:
    """The matched route's full template (``/api/v1/users/{user_id}``), ``None`` when no
    route matched: what FastAPI reports as ``http.route``."""
    # FastAPI 0.16x keeps included routers whole: scope["route"] is the route as its
    # router declared it (no prefixes) and the full template is on the effective context.
    context = scope.get("fastapi", {}).get("effective_route_context")
    if context is not None:
        return getattr(context.starlette_route, "path_format", None) or context.path_format  # type: ignore[no-any-return]
    return getattr(scope.get("route"), "path_format", None)


def response(rendered: RenderedResponse) -> Response:
    """A Starlette response (an ASGI app too) for a rendered one (a bodiless 304 has no type)."""
    headers, media_type = dict(rendered.headers), rendered.media_type or None
    return Response(rendered.body, rendered.status, headers, media_type)
