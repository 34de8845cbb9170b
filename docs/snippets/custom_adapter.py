"""A complete adapter for plain WSGI, written only with backendkit.web.

Every adapter has the same shape: describe the request to the Pipeline (RequestFacts),
start the cycle, admit the request (body cap, default limit), run the handler (which may
authorize and charge limits through the pipeline), render any exception, add the cycle's
headers, finish.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from backendkit.errors import NotFound
from backendkit.responses import render_json, success
from backendkit.validation import ApiModel
from backendkit.web import (
    JSON_CONTENT_TYPE,
    REQUEST_ID_HEADER,
    Pipeline,
    RequestCycle,
    RouteLimit,
    WebKit,
    parse_body,
    read_body,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class WsgiFacts:
    """What the pipeline reads of a WSGI request."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.native = environ
        self.method: str = environ["REQUEST_METHOD"]
        self.path: str = environ.get("PATH_INFO", "/")
        self.peer: str | None = environ.get("REMOTE_ADDR")

    def header(self, name: str) -> str | None:
        key = name.upper().replace("-", "_")
        return self.native.get(key if key == "CONTENT_TYPE" else f"HTTP_{key}")

    def cookies(self) -> Mapping[str, str]:
        jar = SimpleCookie(self.native.get("HTTP_COOKIE", ""))
        return {name: morsel.value for name, morsel in jar.items()}

    def route(self) -> str:
        return self.path  # this router matches exact paths: the path is the template

    def session_user(self) -> str | None:
        return None


@dataclass
class Call:
    """What a handler gets: the request, the pipeline and this request's cycle."""

    facts: WsgiFacts
    pipeline: Pipeline
    cycle: RequestCycle

    def read_json(self, model: type[ApiModel]) -> Any:
        kit = self.pipeline.kit
        environ = self.facts.native
        raw = read_body(
            environ["wsgi.input"].read,
            limit=kit.max_body_bytes,
            content_length=int(environ.get("CONTENT_LENGTH") or 0) or None,
        )
        return parse_body(
            raw, environ.get("CONTENT_TYPE"), max_bytes=kit.max_body_bytes, model=model
        )


Handler = Callable[[Call], tuple[int, Any]]


def wsgi_app(kit: WebKit, routes: dict[tuple[str, str], Handler]) -> Callable[..., Iterable[bytes]]:
    """Serve ``routes`` ((method, path) -> handler) with backendkit's envelope and headers."""
    pipeline = Pipeline(kit)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        facts = WsgiFacts(environ)
        cycle = pipeline.start(
            method=facts.method, path=facts.path, request_id=facts.header(REQUEST_ID_HEADER)
        )
        try:
            try:
                pipeline.admit(cycle, facts, environ.get("CONTENT_LENGTH"))
                handler = routes.get((facts.method, facts.path))
                if handler is None:
                    raise NotFound()
                status, payload = handler(Call(facts, pipeline, cycle))
                body, headers = render_json(payload), {"Content-Type": JSON_CONTENT_TYPE}
            except Exception as exc:
                rendered = pipeline.render(cycle, exc)
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


GREETINGS = RouteLimit("3/minute", key="user")


def greet(call: Call) -> tuple[int, Any]:
    """A handler: the body is read under the cap and parsed by the core; a per-user limit."""
    call.pipeline.charge(call.cycle, call.facts, GREETINGS)
    body = call.read_json(Greeting)
    return 200, success({"greeting": f"Hello, {body.name}"})


def me(call: Call) -> tuple[int, Any]:
    """A protected handler: 401 without a valid token."""
    principal = call.pipeline.authorize(call.cycle, call.facts)
    return 200, success({"id": principal.user_id})
