"""The pure ASGI layer of the FastAPI adapter (no ``BaseHTTPMiddleware``).

It wraps the whole Starlette stack, so it sees every request and every response, the
500s produced by Starlette's ``ServerErrorMiddleware`` included. Per request it:

- accepts or creates the request id and binds the log context
  ([`RequestCycle`][backendkit.web.RequestCycle]);
- refuses a declared ``Content-Length`` over the cap and counts the bytes actually
  received, raising ``PayloadTooLarge`` at the first byte past the cap (Starlette has no
  cap of its own by default);
- charges the app-wide default rate limit, keyed by client address;
- adds ``X-Request-ID``, the security headers, rate-limit headers and, for authenticated
  requests, ``Cache-Control: no-store`` to the response, and states the charset of JSON;
- renders anything that escapes as the error envelope if no response has started;
- logs one access-log event when the response is finished.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from backendkit.logging import get_logger
from backendkit.web import (
    BodyBudget,
    RequestCycle,
    WebKit,
    check_content_length,
    render_error,
)

__all__ = ["CYCLE_KEY", "HANDLED_KEY", "BackendKitMiddleware", "ErrorCatcher"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

#: Scope key holding the request's RequestCycle.
CYCLE_KEY = "backendkit.cycle"
#: Scope key holding the exception an error handler already rendered and logged.
HANDLED_KEY = "backendkit.handled"

_log = get_logger("backendkit.web")


class BackendKitMiddleware:
    """Outermost ASGI middleware of a FastAPI/Starlette app (see the module docs).

    ``install(app, kit)`` puts it around the app's whole middleware stack; it can also
    wrap any ASGI app by hand: ``app = BackendKitMiddleware(app, kit)``.
    """

    def __init__(self, app: Any, kit: WebKit, *, default_limit: Any = None) -> None:
        self.app = app
        self.kit = kit
        # Async callable (scope, cycle) charging the app-wide limit; None when unset.
        self.default_limit = default_limit
        self._max_body = kit.max_body_bytes  # the kit is frozen: read once, not per request

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Run one ASGI connection (HTTP requests only; others pass through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kit = self.kit
        request_id = content_length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value.decode("latin-1")
        cycle = RequestCycle.start(
            method=scope["method"],
            path=scope["path"],
            request_id_header=request_id,
            clock=kit.clock,
        )
        scope[CYCLE_KEY] = cycle
        max_body = self._max_body
        budget = BodyBudget(max_body)
        started = False

        async def counted_receive() -> Message:
            message: Message = await receive()
            body = message.get("body")
            if body:
                budget.add(len(body))
            return message

        async def decorated_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                cycle.status = message["status"]
                message["headers"] = cycle.asgi_headers(message.get("headers", ()))
            await send(message)

        try:
            if content_length is not None:
                check_content_length(content_length, max_body)
            if self.default_limit is not None:
                await self.default_limit(scope, cycle)
            await self.app(scope, counted_receive, decorated_send)
        except Exception as exc:
            if not started:
                await _send_error(decorated_send, exc, cycle, kit)
            elif scope.get(HANDLED_KEY) is not exc:
                # The response is already on the wire: all that is left is the log.
                _log.error(
                    "unhandled_exception_after_response_started",
                    exc_info=exc,
                    request_id=cycle.request_id,
                    user_id=cycle.user_id,
                )
        finally:
            cycle.finish()


class ErrorCatcher:
    """Innermost layer: turns an unhandled exception into the 500 envelope.

    Sits just outside Starlette's ``ExceptionMiddleware`` so the 500 travels back through
    every user middleware like any other response (CORS headers included).
    """

    def __init__(self, app: Any, kit: WebKit) -> None:
        self.app = app
        self.kit = kit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Run the app; render what escapes it while no response has started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            cycle = scope.get(CYCLE_KEY)
            if started or not isinstance(cycle, RequestCycle):
                raise
            scope[HANDLED_KEY] = exc
            await _send_error(send, exc, cycle, self.kit)


async def _send_error(send: Any, exc: Exception, cycle: RequestCycle, kit: WebKit) -> None:
    rendered = render_error(
        exc,
        request_id=cycle.request_id,
        problem=kit.problem,
        user_id=cycle.user_id,
        retry_after=kit.settings.retry_after,
    )
    headers = [(b"content-type", rendered.media_type.encode("latin-1"))]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in rendered.headers.items()
    ]
    headers.append((b"content-length", str(len(rendered.body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": rendered.status, "headers": headers})
    await send({"type": "http.response.body", "body": rendered.body})
