"""OpenAPI for the FastAPI adapter: each operation documents the errors its dependency tree
can answer ([`document_errors`][backendkit.responses.document_errors]), not FastAPI's 422.
What a route raises itself it declares: ``responses={409: {"description": "Taken."}}``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from backendkit.responses import OperationStep, document_errors, operation_errors
from backendkit.web import API_KEY_HEADER, WebKit

__all__ = ["OAUTH2_SCHEME", "api_key_authorization", "api_key_header", "mark", "patch_openapi"]

_MARK = "__backendkit_openapi__"

#: ``Authorization: ApiKey <key>`` as a security scheme (Swagger's Authorize sends the value
#: as typed, scheme word included).
api_key_authorization = APIKeyHeader(
    name="Authorization",
    scheme_name="ApiKey",
    auto_error=False,
    description="An API key, sent as `ApiKey <key>`.",
)
#: ``X-API-Key: <key>`` as a security scheme.
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER, scheme_name=API_KEY_HEADER, auto_error=False, description="An API key."
)
# Declared by the dependencies of every authenticated route; dropped from the document of a
# kit that accepts no API keys, so Swagger offers only what the app accepts.
_API_KEY_SCHEMES = frozenset({"ApiKey", API_KEY_HEADER})
# FastAPI's name for an HTTPBearer scheme, and the name of the password flow beside it.
_BEARER_SCHEME = "HTTPBearer"
#: The OAuth2 password-flow scheme ``install(app, kit, token_url=...)`` declares.
OAUTH2_SCHEME = "OAuth2Password"


def mark(
    call: Callable[..., Any], *steps: OperationStep, body: type[BaseModel] | None = None
) -> None:
    """Record on ``call`` (a dependency or endpoint) the request ``steps`` it runs and the
    model of the JSON body it reads."""
    setattr(call, _MARK, (steps, body))


def patch_openapi(app: FastAPI, kit: WebKit, *, token_url: str | None = None) -> None:
    """Replace ``app.openapi`` with a version that post-processes FastAPI's document
    (and, with ``token_url``, offers the OAuth2 password flow wherever bearer is)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None  # FastAPI caches the document: rewrite it once
        schema = generate()
        if fresh:
            # FastAPI >= 0.165 keeps included routers lazily; iter_route_contexts flattens them.
            contexts = getattr(fastapi_routing, "iter_route_contexts", None)
            routes: Iterable[Any] = contexts(app.routes) if contexts else app.routes
            operations = {
                (route.path_format, method.lower()): _operation(route, kit)
                for route in routes
                if isinstance(getattr(route, "original_route", route), APIRoute)
                for method in route.methods or ()
            }
            document_errors(schema, operations, problem=kit.problem, replaces=("422",))
            if kit.api_keys is None:
                _drop_api_key_schemes(schema)
            if token_url is not None:
                _add_password_flow(schema, token_url)
        return schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented extension point


def _drop_api_key_schemes(schema: dict[str, Any]) -> None:
    schemes = schema.get("components", {}).get("securitySchemes", {})
    for name in _API_KEY_SCHEMES:
        schemes.pop(name, None)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                operation["security"] = [
                    requirement
                    for requirement in operation["security"]
                    if _API_KEY_SCHEMES.isdisjoint(requirement)
                ]


def _add_password_flow(schema: dict[str, Any], token_url: str) -> None:
    # Swagger UI posts the form to tokenUrl, reads the top-level access_token and sends it
    # as "Authorization: Bearer", which the bearer scheme already accepts: every operation
    # that takes a bearer token takes this flow's too.
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[OAUTH2_SCHEME] = {
        "type": "oauth2",
        "description": "Sign in with email (as username) and password; the token is a bearer.",
        "flows": {"password": {"tokenUrl": token_url, "scopes": {}}},
    }
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "security" in operation:
                security = operation["security"]
                if any(_BEARER_SCHEME in requirement for requirement in security):
                    security.append({OAUTH2_SCHEME: []})


def _operation(route: Any, kit: WebKit) -> tuple[set[str], type[BaseModel] | None]:
    """The error statuses ``route`` can answer and the model its JsonBody reads, if any."""
    steps: set[OperationStep] = set()
    model, stack = None, [route.dependant]
    while stack:
        dependant = stack.pop()
        marked, body = getattr(dependant.call, _MARK, ((), None))
        steps.update(marked)
        model = body or model
        params = dependant.path_params + dependant.query_params + dependant.header_params
        if params or dependant.cookie_params:
            steps.add("parameters")  # FastAPI validates them: VALIDATION_ERROR
        if dependant.body_params:
            steps.add("framework_body")  # a body FastAPI reads itself: invalid, too large
        stack.extend(dependant.dependencies)
    path = route.path_format
    default_limit = bool(kit.default_rate_limit) and kit.is_api_path(path)
    cookie_auth = kit.cookie_auth is not None
    errors = operation_errors(path, steps, default_limit=default_limit, cookie_auth=cookie_auth)
    return errors, model
