"""FastAPI OpenAPI: each operation documents only the error statuses it can answer."""

# No `from __future__ import annotations`: FastAPI resolves route annotations at runtime.
import warnings
from typing import Annotated, Any

import pytest
from docs.snippets import quickstart_fastapi
from fastapi import APIRouter, Body, FastAPI
from tests.adapters._apps import EchoIn, make_kit

from backendkit.adapters.fastapi import (
    CurrentUser,
    CursorPagination,
    JsonBody,
    OptionalUser,
    Pagination,
    RateLimit,
    add_health_route,
    install,
    require_roles,
    require_scopes,
)
from backendkit.settings import Settings
from backendkit.web import CookieAuth, Principal, WebKit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

ERRORS = {"400", "401", "403", "404", "409", "413", "415", "429", "500", "503"}


def errors_of(document: dict[str, Any], path: str, method: str = "get") -> set[str]:
    return set(document["paths"][path][method]["responses"]) & ERRORS


def build(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.get("/plain")
    async def plain() -> dict[str, Any]:
        return {}

    @app.get("/query")
    async def query(q: int = 0) -> dict[str, Any]:
        return {}

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, Any]:
        return {}

    @app.post("/json")
    async def json_body(body: Annotated[EchoIn, JsonBody(EchoIn)]) -> dict[str, Any]:
        return {}

    @app.post("/native")
    async def native(body: Annotated[EchoIn, Body()]) -> dict[str, Any]:
        return {}

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {}

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, Any]:
        return {}

    @app.get("/admin", dependencies=[require_roles("admin")])
    async def admin() -> dict[str, Any]:
        return {}

    @app.get("/scoped")
    async def scoped(user: Annotated[Principal, require_scopes("read")]) -> dict[str, Any]:
        return {}

    @app.get("/limited", dependencies=[RateLimit("5/minute")])
    async def limited() -> dict[str, Any]:
        return {}

    @app.get("/limited-user", dependencies=[RateLimit("5/minute", key="user")])
    async def limited_user() -> dict[str, Any]:
        return {}

    @app.get("/pages")
    async def pages(params: Pagination) -> dict[str, Any]:
        return {}

    @app.get("/cursors")
    async def cursors(params: CursorPagination) -> dict[str, Any]:
        return {}

    @app.post("/declared", responses={409: {"description": "The name is taken."}, 404: {}})
    async def declared() -> dict[str, Any]:
        return {}

    router = APIRouter(prefix="/api/v1", dependencies=[RateLimit("5/minute")])

    @router.get("/routed")
    async def routed() -> dict[str, Any]:
        return {}

    app.include_router(router)

    @app.get("/api/free")
    async def free() -> dict[str, Any]:
        return {}

    add_health_route(app, "/api/health")
    return app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build(make_kit()).openapi()


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/plain", "get", {"500"}),
        ("/query", "get", {"400", "500"}),
        ("/things/{thing_id}", "get", {"400", "404", "500"}),
        ("/json", "post", {"400", "413", "415", "500"}),
        ("/native", "post", {"400", "413", "500"}),
        ("/me", "get", {"401", "500"}),
        ("/maybe", "get", {"401", "500"}),
        ("/admin", "get", {"401", "403", "500"}),
        ("/scoped", "get", {"401", "403", "500"}),
        ("/limited", "get", {"429", "500"}),
        ("/limited-user", "get", {"401", "429", "500"}),
        ("/pages", "get", {"400", "500"}),
        ("/cursors", "get", {"400", "500"}),
        ("/api/v1/routed", "get", {"429", "500"}),
        ("/api/free", "get", {"500"}),
        ("/api/health", "get", {"500", "503"}),
    ],
)
def test_each_operation_documents_what_its_dependencies_raise(
    document: dict[str, Any], path: str, method: str, expected: set[str]
) -> None:
    """A route documents the statuses of the dependencies it uses, and no others."""
    assert errors_of(document, path, method) == expected


def test_documented_statuses_are_the_error_envelope(document: dict[str, Any]) -> None:
    """Every documented error refers to a component carrying the error envelope."""
    components = document["components"]["responses"]
    for item in document["paths"].values():
        for operation in item.values():
            for status in set(operation["responses"]) & ERRORS:
                entry = operation["responses"][status]
                if "$ref" in entry:
                    entry = components[entry["$ref"].rsplit("/", 1)[1]]
                schema = entry["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_a_route_declares_what_it_raises_itself(document: dict[str, Any]) -> None:
    """``responses=`` error entries get the envelope, keeping the route's description."""
    responses = document["paths"]["/declared"]["post"]["responses"]
    assert responses["409"]["description"] == "The name is taken."
    assert responses["409"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}
    }
    assert "X-Request-ID" in responses["409"]["headers"]
    assert responses["404"] == {"$ref": "#/components/responses/NotFound"}
    assert errors_of(document, "/declared", "post") == {"404", "409", "500"}


def test_the_default_limit_is_documented_under_the_api_prefixes() -> None:
    """With settings.rate_limit_default, /api/ routes document 429; others, and the
    health route (never charged), do not."""
    document = build(make_kit(rate_limit_default="100/minute")).openapi()
    assert errors_of(document, "/api/free") == {"429", "500"}
    assert errors_of(document, "/api/v1/routed") == {"429", "500"}
    assert errors_of(document, "/plain") == {"500"}
    assert errors_of(document, "/api/health") == {"500", "503"}


def test_cookie_authentication_adds_the_csrf_403() -> None:
    """With cookie auth, a route reading credentials may refuse the CSRF check (403)."""
    document = build(make_kit(cookie_auth=CookieAuth())).openapi()
    assert errors_of(document, "/maybe") == {"401", "403", "500"}
    assert errors_of(document, "/me") == {"401", "403", "500"}


def test_the_document_validates_as_3_1(document: dict[str, Any]) -> None:
    """The rewritten document still validates against the OpenAPI 3.1 schema."""
    from openapi_spec_validator import validate

    validate(document)


def test_quickstart_create_note_documents_no_auth_conflict_or_limit() -> None:
    """The quickstart's POST /notes reads a body and nothing else: 400, 413, 415, 500."""
    app = quickstart_fastapi.create_app(Settings(env="test"))
    document = TestClient(app).get("/openapi.json").json()
    assert errors_of(document, "/notes", "post") == {"400", "413", "415", "500"}
    assert errors_of(document, "/notes/{note_id}") == {"400", "404", "500"}
