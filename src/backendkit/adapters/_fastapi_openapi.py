"""OpenAPI post-processing for the FastAPI adapter: the error envelope instead of FastAPI's 422.

Each operation documents the statuses its dependency tree can answer (what ``mark`` put on
backendkit's; 400 for parameters, 413 for a body FastAPI reads, 404 for a path parameter,
429 for the default limit, 500 always) and ``JsonBody``'s model. What a route raises itself
it declares: ``responses={409: {"description": "Taken."}}`` (or ``{409: {}}``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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
    """Record on ``call`` (a dependency or endpoint) the statuses it can answer (or a function
    of the kit giving them), the model of the body it reads, whether the default limit spares it."""
    setattr(call, _MARK, (errors, body, exempt))


def patch_openapi(app: FastAPI, kit: WebKit) -> None:
    """Replace ``app.openapi`` with a version that post-processes FastAPI's document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None  # FastAPI caches the document: rewrite it once
        schema = generate()
        if fresh:
            _rewrite(app, kit, schema)
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


def _rewrite(app: FastAPI, kit: WebKit, schema: dict[str, Any]) -> None:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    media_type = PROBLEM_MEDIA_TYPE if kit.problem else "application/json"
    error_model = ProblemDetails if kit.problem else ErrorEnvelope
    envelope = _add_model(schemas, error_model, "serialization")
    shared = schema["components"].setdefault("responses", {})
    for status, (name, description) in _ERRORS.items():
        headers = {**_REQUEST_ID, **_HEADERS.get(status, {})}
        content = _content(media_type, envelope)
        shared.setdefault(
            name, {"description": description, "headers": headers, "content": content}
        )
    # FastAPI >= 0.165 keeps included routers lazily; iter_route_contexts flattens them.
    contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    routes: Iterable[Any] = contexts(app.routes) if contexts else app.routes
    facts = {
        (route.path_format, method.lower()): _route_facts(route, kit)
        for route in routes
        if isinstance(getattr(route, "original_route", route), APIRoute)
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
                else:  # the route's description, the error's headers and content
                    headers = {
                        **_REQUEST_ID,
                        **_HEADERS.get(status, {}),
                        **entry.get("headers", {}),
                    }
                    entry.update(headers=headers, content=_content(media_type, envelope))
            for status in sorted(errors):
                codes.setdefault(status, {"$ref": f"#/components/responses/{_ERRORS[status][0]}"})
    # FastAPI's 422 schemas go once nothing else refers to them (HTTPValidationError first:
    # it is what refers to ValidationError).
    for name in ("HTTPValidationError", "ValidationError"):
        others = {key: value for key, value in schemas.items() if key != name}
        rest = {**schema, "components": {**schema["components"], "schemas": others}}
        if name in schemas and json.dumps(_REF.format(model=name)) not in json.dumps(rest):
            del schemas[name]
