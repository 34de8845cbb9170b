"""OpenAPI post-processing for the FastAPI adapter.

FastAPI documents a 422 ``HTTPValidationError`` on every operation with parameters; with
backendkit a validation error is a 400 in the error envelope. This module rewrites the
generated document: the 422 entries (and their schemas, once unreferenced) go, each
operation documents the error envelope for the statuses it can actually answer, and bodies
read by ``JsonBody(Model)`` get their ``requestBody``.

Which statuses an operation can answer is read from the route's dependency tree, never from
names: backendkit's dependencies carry an ``ERRORS_ATTR`` attribute listing what they
raise (``JsonBody``: 400/413/415; ``OptionalUser``: 401, plus 403 with cookie
authentication's CSRF check; ``CurrentUser``: 401; ``require_roles``/``require_scopes``:
403; ``RateLimit``: 429; pagination: 400; the health route: 503). FastAPI's own parameter
validation adds 400 (and 413 for a body it reads), a path parameter adds 404, the app-wide
default limit adds 429 under the kit's API prefixes, and 500 is always possible. A status a
route raises itself (a ``Conflict``, a ``NotFound``) is declared with FastAPI's
``responses=``: ``responses={409: {"description": "The email is taken."}}`` gets the error
envelope as its content.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backendkit.responses import PROBLEM_MEDIA_TYPE, ErrorEnvelope, ProblemDetails

__all__ = ["ALWAYS", "BODY_MODEL_ATTR", "ERRORS_ATTR", "mark_errors", "patch_openapi"]

#: Attribute set on a JsonBody dependency naming the model it reads.
BODY_MODEL_ATTR = "__backendkit_body_model__"
#: Attribute set on a backendkit dependency (or endpoint): the error statuses it can answer,
#: either a frozenset of status strings or a function of the app's kit returning one.
ERRORS_ATTR = "__backendkit_errors__"
#: Error statuses every operation can answer.
ALWAYS: frozenset[str] = frozenset({"500"})

#: The statuses a body read by JsonBody can answer.
_BODY_READ = frozenset({"400", "413", "415"})
#: A body FastAPI reads itself: malformed or invalid (400), over the cap (413).
_NATIVE_BODY = frozenset({"400", "413"})

ErrorsMarker = frozenset[str] | Callable[[Any], Iterable[str]]

_REF = "#/components/schemas/{model}"
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_REQUEST_ID = {
    "X-Request-ID": {
        "description": "The request id (echoed or generated); also in the error body.",
        "schema": {"type": "string"},
    }
}

# status -> (component name, description, extra headers)
_ERRORS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "400": (
        "BadRequest",
        "Malformed request (`BAD_REQUEST`) or invalid fields "
        "(`VALIDATION_ERROR`, one detail per field).",
        {},
    ),
    "401": (
        "Unauthenticated",
        "Missing or invalid credentials (`UNAUTHENTICATED`, `INVALID_TOKEN`).",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "403": ("Forbidden", "Authenticated but not allowed (`FORBIDDEN`).", {}),
    "404": ("NotFound", "No such resource or route (`NOT_FOUND`).", {}),
    "409": ("Conflict", "Conflicts with the current state (`CONFLICT`).", {}),
    "413": ("PayloadTooLarge", "The body is over the size cap (`PAYLOAD_TOO_LARGE`).", {}),
    "415": ("UnsupportedMediaType", "The body is not JSON (`UNSUPPORTED_MEDIA_TYPE`).", {}),
    "429": (
        "RateLimited",
        "Too many requests (`RATE_LIMITED`).",
        {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
            "RateLimit-Limit": {"schema": {"type": "integer"}},
            "RateLimit-Remaining": {"schema": {"type": "integer"}},
            "RateLimit-Reset": {"schema": {"type": "integer"}},
        },
    ),
    "500": (
        "InternalError",
        "Unexpected server error (`INTERNAL_ERROR`); the message is "
        "generic, quote the request id when reporting it.",
        {},
    ),
    "503": (
        "ServiceUnavailable",
        "A dependency is down (`SERVICE_UNAVAILABLE`); try again later.",
        {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    ),
}


def mark_errors(call: Callable[..., Any], marker: ErrorsMarker) -> None:
    """Record on ``call`` (a dependency or endpoint) the error statuses it can answer.

    Args:
        call: the function FastAPI calls.
        marker: the statuses (``frozenset({"401"})``), or a function of the app's kit
            returning them, for statuses that depend on configuration.
    """
    setattr(call, ERRORS_ATTR, marker)


def patch_openapi(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a version that post-processes FastAPI's document."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    done: list[int] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        # FastAPI caches the document; rewrite each generated document exactly once.
        if not done or done[-1] != id(schema):
            _rewrite(app, schema)
            done[:] = [id(schema)]
        return schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented extension point


def _add_model(schemas: dict[str, Any], model: type[BaseModel], mode: str) -> str:
    generated = model.model_json_schema(ref_template=_REF, mode=mode)  # type: ignore[arg-type]
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    name = generated.get("title", model.__name__)
    schemas.setdefault(name, generated)
    return str(name)


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in _HTTP_METHODS:
                yield path, method, operation


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every ``APIRoute`` of ``app`` with its effective path, routers included.

    Since FastAPI 0.165 ``include_router`` keeps a lazy ``_IncludedRouter`` in
    ``app.routes`` instead of copying the routes; ``iter_route_contexts`` is the flattened
    list ``app.openapi()`` itself reads (prefixes applied, recursively). Older FastAPI
    versions copied the routes, so ``app.routes`` is already flat there.
    """
    iter_contexts = getattr(fastapi_routing, "iter_route_contexts", None)
    if iter_contexts is None:  # pragma: no cover - FastAPI < 0.165
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iter_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _statuses(call: Any, kit: Any) -> frozenset[str]:
    marker = getattr(call, ERRORS_ATTR, None)
    if marker is None:
        return frozenset()
    if callable(marker):
        return frozenset(marker(kit))
    return frozenset(marker)


def _route_errors(route: Any, kit: Any, unlimited: set[str]) -> frozenset[str]:
    """The error statuses ``route`` can answer, from its dependency tree and its path."""
    found = set(ALWAYS)
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        call = dependant.call
        if call is not None:
            found |= _statuses(call, kit)
            if getattr(call, BODY_MODEL_ATTR, None) is not None:
                found |= _BODY_READ
        if (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
        ):
            found.add("400")  # FastAPI validates them: VALIDATION_ERROR
        if dependant.body_params:
            found |= _NATIVE_BODY
        stack.extend(dependant.dependencies)
    path = route.path_format
    if "{" in path:
        found.add("404")  # a path naming a resource: there may be no such resource
    default_limit = getattr(kit, "default_rate_limit", None)
    if default_limit and kit.is_api_path(path) and path not in unlimited:
        found.add("429")  # the app-wide default limit, charged before the route
    return frozenset(found)


def _route_facts(
    app: FastAPI, kit: Any
) -> tuple[dict[tuple[str, str], type[BaseModel]], dict[tuple[str, str], frozenset[str]]]:
    bodies: dict[tuple[str, str], type[BaseModel]] = {}
    errors: dict[tuple[str, str], frozenset[str]] = {}
    unlimited: set[str] = getattr(app.state, "backendkit_unlimited_paths", None) or set()
    for route in _api_routes(app):
        statuses = _route_errors(route, kit, unlimited)
        model = _body_model(route)
        for method in route.methods or ():
            key = (route.path_format, method.lower())
            errors[key] = statuses
            if model is not None:
                bodies[key] = model
    return bodies, errors


def _body_model(route: Any) -> type[BaseModel] | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        model = getattr(dependant.call, BODY_MODEL_ATTR, None)
        if model is not None:
            return model  # type: ignore[no-any-return]
        stack.extend(dependant.dependencies)
    return None


def _fill_declared(codes: dict[str, Any], media_type: str, envelope: str) -> None:
    """Give the route's own ``responses=`` error entries the error envelope as content."""
    for status, entry in codes.items():
        if status not in _ERRORS or not isinstance(entry, dict) or "$ref" in entry:
            continue
        if "content" in entry:
            continue  # the route documented its own body
        name, _, headers = _ERRORS[status]
        if entry.get("description") in (None, "", HTTPStatus(int(status)).phrase):
            codes[status] = {"$ref": f"#/components/responses/{name}"}
            continue
        entry["headers"] = {**_REQUEST_ID, **headers, **entry.get("headers", {})}
        entry["content"] = {media_type: {"schema": {"$ref": _REF.format(model=envelope)}}}


def _rewrite(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    kit = getattr(app.state, "backendkit", None)
    if getattr(kit, "problem", False):  # errors are RFC 9457 problem details
        media_type = PROBLEM_MEDIA_TYPE
        envelope = _add_model(schemas, ProblemDetails, "serialization")
    else:
        media_type = "application/json"
        envelope = _add_model(schemas, ErrorEnvelope, "serialization")
    responses = components.setdefault("responses", {})
    for name, description, headers in _ERRORS.values():
        responses.setdefault(
            name,
            {
                "description": description,
                "headers": {**_REQUEST_ID, **headers},
                "content": {media_type: {"schema": {"$ref": _REF.format(model=envelope)}}},
            },
        )
    bodies, errors = _route_facts(app, kit)
    for path, method, operation in _operations(schema):
        model = bodies.get((path, method))
        if model is not None and "requestBody" not in operation:
            name = _add_model(schemas, model, "validation")
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": _REF.format(model=name)}}},
            }
        codes = operation.setdefault("responses", {})
        codes.pop("422", None)
        _fill_declared(codes, media_type, envelope)
        # An operation FastAPI documents but no APIRoute backs (none today) keeps only 500.
        for status in sorted(errors.get((path, method), ALWAYS)):
            codes.setdefault(status, {"$ref": f"#/components/responses/{_ERRORS[status][0]}"})
    for name in ("HTTPValidationError", "ValidationError"):
        # FastAPI's 422 schemas go once nothing else refers to them (HTTPValidationError
        # first: it is what refers to ValidationError).
        if name in schemas and not _referenced(schema, name):
            del schemas[name]


def _referenced(schema: dict[str, Any], name: str) -> bool:
    components = schema["components"]
    others = {key: value for key, value in components["schemas"].items() if key != name}
    rest = {**schema, "components": {**components, "schemas": others}}
    return json.dumps(_REF.format(model=name)) in json.dumps(rest)
