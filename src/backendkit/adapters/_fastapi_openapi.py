"""OpenAPI post-processing for the FastAPI adapter.

FastAPI documents a 422 ``HTTPValidationError`` on every operation with parameters; with
backendkit a validation error is a 400 in the error envelope. This module rewrites the
generated document: the 422 entries (and their schemas, once unreferenced) go, the error
envelope is documented for 400/401/403/404/409/413/429/500 (415 where a body is read), and
bodies read by ``JsonBody(Model)`` get their ``requestBody``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backendkit.responses import PROBLEM_MEDIA_TYPE, ErrorEnvelope, ProblemDetails

__all__ = ["BODY_MODEL_ATTR", "ERROR_STATUSES", "patch_openapi"]

#: Attribute set on a JsonBody dependency naming the model it reads.
BODY_MODEL_ATTR = "__backendkit_body_model__"

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
}
#: Error statuses documented on every operation.
ERROR_STATUSES: tuple[str, ...] = ("400", "401", "403", "404", "409", "413", "429", "500")


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


def _body_models(app: FastAPI) -> dict[tuple[str, str], type[BaseModel]]:
    found: dict[tuple[str, str], type[BaseModel]] = {}
    for route in _api_routes(app):
        stack = list(route.dependant.dependencies)
        while stack:
            dependant = stack.pop()
            model = getattr(dependant.call, BODY_MODEL_ATTR, None)
            if model is not None:
                for method in route.methods or ():
                    found[(route.path_format, method.lower())] = model
            stack.extend(dependant.dependencies)
    return found


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
    bodies = _body_models(app)
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
        wanted = ERROR_STATUSES + (("415",) if "requestBody" in operation else ())
        for status in wanted:
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
