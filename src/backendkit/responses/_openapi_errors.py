"""The error responses of an OpenAPI document, for any framework that generates one.

An adapter knows which steps each route runs (authentication, a limit, a JSON body...);
[`operation_errors`][backendkit.responses.operation_errors] turns them into the statuses the
operation can answer, and [`document_errors`][backendkit.responses.document_errors] writes
them into the document: one shared response component per status (the envelope or the
problem document, with the headers that status carries) and a reference to it in each
operation. What a route raises itself it declares in its own ``responses`` (``{409: {}}``).

Example:
    >>> sorted(operation_errors("/notes/{id}", ["authenticated", "limit"], default_limit=False))
    ['401', '404', '429', '500']
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from backendkit.responses._envelopes import JSON_MEDIA_TYPE, PROBLEM_MEDIA_TYPE
from backendkit.responses._openapi import ErrorEnvelope, ProblemDetails

__all__ = ["ERROR_RESPONSES", "OperationStep", "document_errors", "operation_errors"]

#: A request step whose errors an operation documents: ``credentials`` reads the caller
#: if any (401 on bad credentials), ``authenticated`` requires one (401), ``authorize``
#: checks roles or scopes (403), ``limit`` charges a route limit (429), ``json_body`` reads
#: a body through the core (400, 413, 415), ``parameters`` validates path, query, header or
#: cookie parameters (400), ``framework_body`` is a body the framework reads itself (400,
#: 413), ``health`` is a health check (503; never charged the default limit).
OperationStep = Literal[
    "credentials",
    "authenticated",
    "authorize",
    "limit",
    "json_body",
    "parameters",
    "framework_body",
    "health",
]

_STEPS: dict[str, frozenset[str]] = {
    "credentials": frozenset({"401"}),
    "authenticated": frozenset({"401"}),
    "authorize": frozenset({"403"}),
    "limit": frozenset({"429"}),
    "json_body": frozenset({"400", "413", "415"}),
    "parameters": frozenset({"400"}),
    "framework_body": frozenset({"400", "413"}),
    "health": frozenset({"503"}),
}

#: Each documented error status: the name of its shared response component and its
#: description (the error codes it carries).
ERROR_RESPONSES: Mapping[str, tuple[str, str]] = {
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

_REF = "#/components/schemas/{model}"
_REF_PATTERN = re.compile('"#/components/schemas/([^"]+)"')
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_INT, _STR = {"schema": {"type": "integer"}}, {"schema": {"type": "string"}}
_REQUEST_ID = {"X-Request-ID": {"description": "The request id, also in the error body.", **_STR}}
_RETRY = {"Retry-After": {"description": "Seconds to wait.", **_INT}}
_HEADERS: dict[str, dict[str, Any]] = {
    "401": {"WWW-Authenticate": _STR},
    "429": {**_RETRY, **{f"RateLimit-{n}": _INT for n in ("Limit", "Remaining", "Reset")}},
    "503": _RETRY,
}


def operation_errors(
    path: str, steps: Iterable[OperationStep], *, default_limit: bool, cookie_auth: bool = False
) -> set[str]:
    """The error statuses an operation on the route template ``path`` can answer.

    Always 500; the statuses of each of its ``steps`` (see ``OperationStep``); 404 when
    the path names a resource (``/notes/{id}``); 429 when ``default_limit`` (the app-wide
    limit charges the path) unless it is a health check. With ``cookie_auth`` (the cookie
    transport), reading credentials can also answer the CSRF check's 403.
    """
    steps = set(steps)
    found = {"500"}.union(*(_STEPS[step] for step in steps))
    if cookie_auth and steps & {"credentials", "authenticated"}:
        found.add("403")
    if "{" in path:
        found.add("404")
    if default_limit and "health" not in steps:
        found.add("429")
    return found


def document_errors(
    document: dict[str, Any],
    operations: Mapping[tuple[str, str], tuple[Collection[str], type[BaseModel] | None]],
    *,
    problem: bool,
    replaces: Collection[str] = (),
) -> None:
    """Document the error responses of an OpenAPI ``document``, in place.

    Args:
        document: the generated document (``paths``, ``components``).
        operations: ``(path, lowercase method)`` -> (its error statuses, the model of the
            JSON body the core reads for it, if any); an operation not named answers 500.
        problem: errors are problem documents (``application/problem+json``), not envelopes.
        replaces: statuses the framework documents that the error responses replace (such
            as FastAPI's 422); the schemas only they referred to go too.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    envelope = _add_model(schemas, ProblemDetails if problem else ErrorEnvelope)
    content = functools.partial(
        _content, PROBLEM_MEDIA_TYPE if problem else JSON_MEDIA_TYPE, envelope
    )
    shared = document["components"].setdefault("responses", {})
    for status, (name, description) in ERROR_RESPONSES.items():
        entry = {"description": description, "headers": _headers(status), "content": content()}
        shared.setdefault(name, entry)
    replaced: set[str] = set()  # the schemas the replaced responses referred to
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                codes = operation.setdefault("responses", {})
                replaced |= _schema_refs([codes.pop(status, None) for status in replaces])
                errors, model = operations.get((path, method), ({"500"}, None))
                _document_operation(operation, errors, model, schemas, content)
    _drop_orphans(document, replaced)


def _document_operation(
    operation: dict[str, Any],
    errors: Collection[str],
    model: type[BaseModel] | None,
    schemas: dict[str, Any],
    content: Callable[[], dict[str, Any]],
) -> None:
    if model is not None and "requestBody" not in operation:
        body = _content(JSON_MEDIA_TYPE, _add_model(schemas, model, "validation"))
        operation["requestBody"] = {"required": True, "content": body}
    codes = operation["responses"]
    for status, entry in codes.items():  # the route's own responses= entries
        if status not in ERROR_RESPONSES or not isinstance(entry, dict):
            continue
        if entry.keys() & {"$ref", "content"}:
            continue  # documented by the route itself
        if entry.get("description") in (None, "", HTTPStatus(int(status)).phrase):
            codes[status] = _ref(status)
        else:  # the route's description, the error's headers and content
            headers = {**_headers(status), **entry.get("headers", {})}
            entry.update(headers=headers, content=content())
    for status in sorted(errors):
        codes.setdefault(status, _ref(status))


def _drop_orphans(document: dict[str, Any], names: set[str]) -> None:
    # A schema only the replaced responses referred to goes (FastAPI's HTTPValidationError),
    # then each one only it referred to (ValidationError).
    schemas = document["components"]["schemas"]
    while names:
        name = names.pop()
        if name not in schemas:
            continue
        others = {key: value for key, value in schemas.items() if key != name}
        rest = {**document, "components": {**document["components"], "schemas": others}}
        if _REF.format(model=name) not in json.dumps(rest):
            names |= _schema_refs(schemas.pop(name))


def _schema_refs(value: Any) -> set[str]:
    return set(re.findall(_REF_PATTERN, json.dumps(value)))


def _headers(status: str) -> dict[str, Any]:
    return {**_REQUEST_ID, **_HEADERS.get(status, {})}


def _ref(status: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


def _add_model(
    schemas: dict[str, Any], model: type[BaseModel], mode: JsonSchemaMode = "serialization"
) -> str:
    generated = model.model_json_schema(ref_template=_REF, mode=mode)
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    name = str(generated.get("title", model.__name__))
    schemas.setdefault(name, generated)
    return name


def _content(media_type: str, model: str) -> dict[str, Any]:
    return {media_type: {"schema": {"$ref": _REF.format(model=model)}}}
