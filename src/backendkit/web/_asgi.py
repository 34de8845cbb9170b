"""One ASGI HTTP request through the pipeline, for a pure ASGI middleware of any framework.

The middleware builds an [`AsgiCycle`][backendkit.web.AsgiCycle] from the scope, admits the
request with its facts, and calls the app with the cycle's ``receive`` (counts the body
against the cap: ASGI servers have none) and ``send`` (records the status and adds the
cycle's headers when the response starts). What escapes before that is rendered with
``Pipeline.render``; after it, only the log is left: ``late_error``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from backendkit.logging import get_logger
from backendkit.web._body import BodyBudget
from backendkit.web._pipeline import Pipeline

__all__ = ["AsgiCycle"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_log = get_logger("backendkit.web")


class AsgiCycle:
    """The [`RequestCycle`][backendkit.web.RequestCycle] of one ASGI HTTP request.

    Args:
        pipeline: the app's pipeline (starts the cycle; its kit's body cap).
        scope: the request's ASGI HTTP scope (its ``X-Request-ID`` is taken when safe).

    Attributes:
        cycle: the started cycle.
        content_length: the declared ``Content-Length``, for ``Pipeline.aadmit``.
    """

    __slots__ = ("_budget", "_limit", "_raw_headers", "content_length", "cycle")

    def __init__(self, pipeline: Pipeline, scope: Mapping[str, Any]) -> None:
        request_id = length = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")
        self._raw_headers = scope["headers"]
        self.cycle = pipeline.start(
            method=scope["method"], path=scope["path"], request_id=request_id, headers=self.header
        )
        self.content_length = length
        # The counter is made by the first body message: a route that reads no body (most
        # GETs) never needs one.
        self._budget: BodyBudget | None = None
        self._limit = pipeline.max_body_bytes

    def header(self, name: str) -> str | None:
        """A request header by name (any case); repeats joined with ``","``."""
        wanted = name.lower().encode("latin-1")
        values = [value.decode("latin-1") for key, value in self._raw_headers if key == wanted]
        return ",".join(values) if values else None

    def receive(self, receive: Receive) -> Receive:
        """``receive`` counting the body bytes (``PayloadTooLarge`` past the cap)."""

        async def counted() -> MutableMapping[str, Any]:
            message = await receive()
            budget = self._budget
            if budget is None:
                budget = self._budget = BodyBudget(self._limit)
            budget.add(len(message.get("body", b"")))
            return message

        return counted

    def send(self, send: Send) -> Send:
        """``send`` recording the status and adding the cycle's headers at the response start."""
        cycle = self.cycle

        async def decorated(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                cycle.status = message["status"]  # the response has started
                message["headers"] = cycle.asgi_headers(message.get("headers", ()))
            await send(message)

        return decorated

    @property
    def started(self) -> bool:
        """True once the response has started: an error can no longer be rendered."""
        return self.cycle.status is not None

    def late_error(self, exc: BaseException) -> None:
        """Log an error raised after the response started (it is on the wire already)."""
        cycle = self.cycle
        _log.error(
            "unhandled_exception_after_response_started",
            exc_info=exc,
            request_id=cycle.request_id,
            user_id=cycle.user_id,
        )
