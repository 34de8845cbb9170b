"""The Flask adapter's WSGI layer and request facts: the middleware owns each request's
cycle, from before Flask sees the request to after its teardown, and adds the cycle's
headers as the response starts; the request hooks fill in what only Flask knows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Request
from werkzeug.datastructures import EnvironHeaders

from backendkit import web
from backendkit.logging import accept_request_id

__all__ = ["REQUEST_KEY", "CycleMiddleware", "Facts"]

REQUEST_KEY = "backendkit.request"  # WSGI environ key of the request's Facts

StartResponse = Callable[..., Any]


class Facts:
    """A Flask request as the pipeline reads it (``RequestFacts``), with its cycle.

    Built from the WSGI environ before Flask's request exists: ``native`` (the
    ``flask.Request``) is set by ``attach`` once Flask has made it, before any reader of
    it runs (the adapter hands the facts out through ``attach``).
    """

    native: Request

    __slots__ = (
        "cycle",
        "environ",
        "method",
        "native",
        "path",
        "peer",
        "pipeline",
        "served",
        "streamed",
    )

    def __init__(self, pipeline: web.Pipeline, environ: dict[str, Any], *, served: bool) -> None:
        self.pipeline, self.environ = pipeline, environ
        self.method: str = environ.get("REQUEST_METHOD", "GET").upper()  # as werkzeug reads it
        # werkzeug's request.path: the WSGI string decoded as UTF-8, one leading slash.
        raw: str = environ.get("PATH_INFO") or ""
        if not raw.isascii():  # ASCII reads the same either way
            raw = raw.encode("latin-1").decode(errors="replace")
        self.path = "/" + raw.lstrip("/")
        self.peer: str | None = environ.get("REMOTE_ADDR")
        self.streamed = False  # then the cycle ends when the body is closed, not at the end
        request_id = environ.get("HTTP_X_REQUEST_ID")
        #: Whether the middleware serves the request (it then logs and measures it); a
        #: request it never saw (a ``test_request_context``) gets a cycle that is not started.
        self.served = served
        if served:
            self.cycle = pipeline.start(
                method=self.method, path=self.path, request_id=request_id, headers=self.header
            )
        else:
            self.cycle = web.RequestCycle(
                method=self.method, path=self.path, request_id=accept_request_id(request_id)
            )
        environ[REQUEST_KEY] = self

    def attach(self, native: Request) -> None:
        """Flask's request for this environ (its rule, cookies, the body cap's setting)."""
        self.native = native
        if self.cycle.observer is not None:  # measured by the matched rule, not the raw path
            self.cycle.route = getattr(native.url_rule, "rule", None)

    def finish(self) -> None:
        """Finish the cycle and take these facts out of the environ they point to.

        The two refer to each other: left linked, every request's environ, Flask request
        and cycle would wait for the garbage collector instead of being freed at once.
        """
        self.cycle.finish()
        self.environ.pop(REQUEST_KEY, None)

    def header(self, name: str) -> str | None:
        values = EnvironHeaders(self.environ).getlist(name)
        return ",".join(values) if values else None

    def cookies(self) -> Mapping[str, str]:
        return self.native.cookies

    def route(self) -> str:
        rule = self.native.url_rule
        return rule.rule if rule is not None else self.path

    def session_user(self) -> str | None:
        return None


class CycleMiddleware:
    """Wraps ``app.wsgi_app``: starts the request's cycle, adds its headers to the response
    (``RequestCycle.wsgi_headers``) and finishes it once Flask has torn the request down,
    or when a streamed body is closed (the ``after_request`` hook marks those)."""

    __slots__ = ("app", "pipeline")

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
                 pipeline: web.Pipeline) -> None:  # fmt: skip
        self.app, self.pipeline = app, pipeline

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request through the wrapped app."""
        facts = Facts(self.pipeline, environ, served=True)
        cycle = facts.cycle

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            cycle.status = int(status[:3])
            return start_response(status, cycle.wsgi_headers(headers), exc_info)

        try:
            body = self.app(environ, start)
        except BaseException:
            facts.finish()
            raise
        if not facts.streamed:
            facts.finish()
        return body
