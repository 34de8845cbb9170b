"""A complete adapter for plain WSGI, written only with backendkit.web.

Every adapter has the same shape: start a RequestCycle, run the app's handler, turn any
exception into a RenderedResponse with render_error, add the cycle's headers, finish.
"""

from collections.abc import Callable, Iterable
from typing import Any

from backendkit.errors import NotFound
from backendkit.responses import render_json, success
from backendkit.validation import ApiModel
from backendkit.web import (
    JSON_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    RequestCycle,
    WebKit,
    check_content_length,
    parse_body,
    read_body,
    render_error,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Handler = Callable[[dict[str, Any], WebKit], tuple[int, Any]]


def wsgi_app(kit: WebKit, routes: dict[tuple[str, str], Handler]) -> Callable[..., Iterable[bytes]]:
    """Serve ``routes`` ((method, path) -> handler) with backendkit's envelope and headers."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        cycle = RequestCycle.start(
            method=method,
            path=path,
            request_id_header=environ.get("HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")),
            clock=kit.clock,
        )
        try:
            try:
                declared = check_content_length(environ.get("CONTENT_LENGTH"), kit.max_body_bytes)
                handler = routes.get((method, path))
                if handler is None:
                    raise NotFound()
                environ["backendkit.read_body"] = lambda: read_body(
                    environ["wsgi.input"].read, limit=kit.max_body_bytes, content_length=declared
                )
                status, payload = handler(environ, kit)
                body, headers = render_json(payload), {"Content-Type": JSON_CONTENT_TYPE}
            except Exception as exc:
                rendered = render_error(exc, request_id=cycle.request_id, problem=kit.problem)
                status, body = rendered.status, rendered.body
                headers = {"Content-Type": JSON_CONTENT_TYPE, **rendered.headers}
            headers.update(cycle.response_headers(headers))
            cycle.status = status
            start_response(f"{status} -", list(headers.items()))
            return [body]
        finally:
            cycle.finish()

    return app


class Greeting(ApiModel):
    name: str


def greet(environ: dict[str, Any], kit: WebKit) -> tuple[int, Any]:
    """A handler: the body is read under the cap and parsed by the core."""
    body = parse_body(
        environ["backendkit.read_body"](),
        environ.get("CONTENT_TYPE"),
        max_bytes=kit.max_body_bytes,
        model=Greeting,
    )
    return 200, success({"greeting": f"Hello, {body.name}"})
