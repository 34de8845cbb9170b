"""OpenAPI post-processing for the FastAPI adapter: the error envelope instead of FastAPI's 422.

Each operation documents the statuses it can answer, read from the route's dependency tree
(what ``mark`` recorded on backendkit's dependencies; 400 for the parameters FastAPI
validates, 413 for a body it reads, 404 for a path parameter, 429 for the default limit
under the API prefixes, 500 always), and ``JsonBody``'s model as its ``requestBody``. A
status a route raises itself is declared with ``responses=``: ``{409: {"description":
"The email is taken."}}`` gets the envelope; ``{409: {}}`` the shared ``Conflict``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from backendkit.responses import PROBLEM_MEDIA_TYPE, ErrorEnvelope, ProblemDetails
from backendkit.web import WebKit

__all__ = ["mark", "patch_openapi"]

Errors = Iterable[str] | Callable[[WebKit], Iterable[str]]

_MARK = "__backendkit_openapi__"

_REF = "#/components/schemas/{model}"
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_INT, _STR = {"schema": {"type": "integer"}}, {"schema": {"type": "string"}}
_REQUEST_ID = {"X-Request-ID": {"description": "The request id, also in the error body.", **_STR}}
_RETRY = {"Retry-After": {"description": "Seconds to wait.", **_INT}}
_HEADERS: dict[str, dict[str, Any]] = {
    "401": {"WWW-Authenticate": _STR},
    "429": {**_RETRY, **{f"RateLimit-{n}": _INT for n in ("Limit", "Remaining", "Reset")}},
    "503": _RETRY,
}
_ERRORS = {  # status -> (component name, description)
    "400": ("BadRequest", "Bad request (`BAD_REQUEST`) or invalid fields (`VALIDATION_ERROR`)."),
    "401": ("Unauthenticated", "No or invalid credentials (`UNAUTHENTICATED`, `INVALID_TOKEN`)."),
    "403": ("Forbidden", "Authenticated but not allowed (`FORBIDDEN`)."),
    "404": ("NotFound", "No such resource or route (`NOT_FOUND`)."),
    "409": ("Conflict", "Conflicts with the current state (`CONFLICT`)."),
    "413": ("PayloadTooLarge", "The body is over the size cap (`PAYLOAD_TOO_LARGE`)."),
    "415": ("UnsupportedMediaType", "The body is not JSON (`UNSUPPORTED_MEDIA_TYPE`)."),
    "429": ("RateLimited", "Too many requests (`RATE_LIMITED`)."),
    "500": ("InternalError", "Server error (`INTERNAL_ERROR`); quote the request id to report it."),
    "503": ("ServiceUnavailable", "A dependency is down (`SERVICE_UNAVAILABLE`); retry later."),
}


def mark(
    call: Callable[..., Any],
    errors: Errors = (),
    *,
    body: type[BaseModel] | None = None,
    exempt: bool = False,
) -> None:
    """Record on ``call`` (a dependency or endpoint) what the document says of it.

    ``errors``: the statuses it can answer, or a function of the kit giving them; ``body``:
    the model of the body it reads; ``exempt``: the default limit never charges it.
    """
    setattr(call, _MARK, (errors, body, exempt))


def patch_openapi(app: FastAPI, kit: WebKit) -> None:
    """Replace ``app.openapi`` with a version that post-processes FastAPI's document."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    done: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not done or done[-1] != id(schema):  # FastAPI caches it: rewrite each one once
            _rewrite(app, kit, schema)
            done[:] = [id(schema)]
        return schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented extension point


def _add_model(schemas: dict[str, Any], model: type[BaseModel], mode: JsonSchemaMode) -> str:
    generated = model.model_json_schema(ref_template=_REF, mode=mode)
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    name = str(generated.get("title", model.__name__))
    schemas.setdefault(name, generated)
    return name


def _content(media_type: str, model: str) -> dict[str, Any]:
    return {media_type: {"schema": {"$ref": _REF.format(model=model)}}}


def _api_routes(app: FastAPI) -> Iterator[Any]:
    # Since FastAPI 0.165 include_router keeps a lazy router in app.routes, flattened (with
    # the prefixes) by iter_route_contexts as app.openapi() does; older versions copied.
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    for route in contexts(app.routes) if contexts else app.routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def _route_facts(route: Any, kit: WebKit) -> tuple[set[str], type[BaseModel] | None]:
    """The error statuses ``route`` can answer and the model its JsonBody reads, if any."""
    found, model, exempt, stack = {"500"}, None, False, [route.dependant]
    while stack:
        dependant = stack.pop()
        errors, body, skip = getattr(dependant.call, _MARK, ((), None, False))
        found |= set(errors(kit) if callable(errors) else errors)
        model, exempt = body or model, exempt or skip
        params = dependant.path_params + dependant.query_params + dependant.header_params
        if params or dependant.cookie_params:
            found.add("400")  # FastAPI validates them: VALIDATION_ERROR
        if dependant.body_params:
            found |= {"400", "413"}  # a body FastAPI reads itself: invalid, too large
        stack.extend(dependant.dependencies)
    path = route.path_format
    if "{" in path:
        found.add("404")  # a path naming a resource: there may be no such resource
    if kit.default_rate_limit and kit.is_api_path(path) and not exempt:
        found.add("429")  # the app-wide default limit, charged before the route
    return found, model


def _error_entry(
    status: str, description: str, media_type: str, envelope: str, headers: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**_REQUEST_ID, **_HEADERS.get(status, {}), **headers},
        "content": _content(media_type, envelope),
    }


def _rewrite(app: FastAPI, kit: WebKit, schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    media_type = PROBLEM_MEDIA_TYPE if kit.problem else "application/json"
    envelope = _add_model(
        schemas, ProblemDetails if kit.problem else ErrorEnvelope, "serialization"
    )
    shared = schema["components"].setdefault("responses", {})
    for status, (name, description) in _ERRORS.items():
        shared.setdefault(name, _error_entry(status, description, media_type, envelope, {}))
    facts = {
        (route.path_format, method.lower()): _route_facts(route, kit)
        for route in _api_routes(app)
        for method in route.methods or ()
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            errors, model = facts.get((path, method), ({"500"}, None))
            if model is not None and "requestBody" not in operation:
                body = _content("application/json", _add_model(schemas, model, "validation"))
                operation["requestBody"] = {"required": True, "content": body}
            codes = operation.setdefault("responses", {})
            codes.pop("422", None)
            for status, entry in codes.items():  # the route's own responses= entries
                if status not in _ERRORS or not isinstance(entry, dict):
                    continue
                if entry.keys() & {"$ref", "content"}:
                    continue  # documented by the route itself
                text = entry.get("description")
                if text in (None, "", HTTPStatus(int(status)).phrase):
                    codes[status] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
                else:
                    own = entry.get("headers", {})
                    entry.update(_error_entry(status, text, media_type, envelope, own))
            for status in sorted(errors):
                codes.setdefault(status, {"$ref": f"#/components/responses/{_ERRORS[status][0]}"})
    # FastAPI's 422 schemas go once nothing else refers to them (HTTPValidationError first:
    # it is what refers to ValidationError).
    for name in ("HTTPValidationError", "ValidationError"):
        others = {key: value for key, value in schemas.items() if key != name}
        rest = {**schema, "components": {**schema["components"], "schemas": others}}
        if name in schemas and json.dumps(_REF.format(model=name)) not in json.dumps(rest):
            del schemas[name]
