"""install(app, kit, token_url=...) declares the OAuth2 password flow beside the HTTP bearer
scheme, on exactly the operations that take a bearer token; without it, bearer alone."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from tests.adapters._apps import make_kit

from backendkit.adapters.fastapi import CurrentUser, install


def _document(**options: Any) -> dict[str, Any]:
    app = FastAPI()
    install(app, make_kit(), **options)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {}

    @app.get("/open")
    async def open_route() -> dict[str, Any]:
        return {}

    return app.openapi()  # what /openapi.json serves


def test_token_url_adds_the_password_flow_where_bearer_is() -> None:
    """An oauth2 password scheme with the tokenUrl; /me accepts bearer or the flow; an open
    route requires neither."""
    document = _document(token_url="/api/v1/auth/token")
    scheme = document["components"]["securitySchemes"]["OAuth2Password"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"] == {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}}
    assert document["paths"]["/me"]["get"]["security"] == [
        {"HTTPBearer": []},
        {"OAuth2Password": []},
    ]
    assert "security" not in document["paths"]["/open"]["get"]


def test_without_token_url_only_the_bearer_scheme_is_declared() -> None:
    """The default document: HTTP bearer, no OAuth2 flow."""
    document = _document()
    assert set(document["components"]["securitySchemes"]) == {"HTTPBearer"}
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
