"""The FastAPI, Flask and custom-adapter samples of the integration pages run and hold."""

from __future__ import annotations

import io
import warnings
from typing import Any

import pytest
from docs.snippets import custom_adapter, fastapi_app, flask_app

from backendkit.settings import Settings
from backendkit.web import WebKit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

SETTINGS = Settings(env="test", secret_key=["docs-secret-key-0123456789"])


def test_fastapi_sample() -> None:
    """Login, me, pages, ETags, errors and OpenAPI of the FastAPI sample."""
    client = TestClient(fastapi_app.create_app(SETTINGS), raise_server_exceptions=False)
    assert client.get("/health").status_code == 200
    bad = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "nope"})
    assert bad.status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "correct horse"})
    assert login.headers["Cache-Control"] == "no-store"
    token = login.json()["data"]["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/users/me", headers=auth).json()["data"] == {"id": "a@b.c"}
    page = client.get("/api/v1/users?page=3&perPage=20", headers=auth).json()
    assert page["pagination"] == {"page": 3, "perPage": 20, "total": 42, "totalPages": 3}
    assert len(page["data"]) == 2
    first = client.get("/api/v1/users/7")
    assert (
        client.get("/api/v1/users/7", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    assert client.get("/api/v1/users/99").json()["error"]["code"] == "NOT_FOUND"
    document = client.get("/openapi.json").json()
    assert "UserPageEnvelope" in document["components"]["schemas"]


def test_flask_sample() -> None:
    """The same flows through the Flask sample."""
    client = flask_app.create_app(SETTINGS).test_client()
    assert client.get("/health").status_code == 200
    login = client.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "correct horse"})
    assert login.headers["Cache-Control"] == "no-store"
    auth = {"Authorization": "Bearer " + login.get_json()["data"]["accessToken"]}
    assert client.get("/api/v1/users/me", headers=auth).get_json()["data"] == {"id": "a@b.c"}
    page = client.get("/api/v1/users?perPage=40", headers=auth).get_json()
    assert page["pagination"]["totalPages"] == 2
    assert client.get("/api/v1/users").status_code == 401
    first = client.get("/api/v1/users/7")
    assert (
        client.get("/api/v1/users/7", headers={"If-None-Match": first.headers["ETag"]}).status_code
        == 304
    )
    for _ in range(4):
        client.post("/api/v1/auth/login", json={"email": "x", "password": "y"})
    assert (
        client.post("/api/v1/auth/login", json={"email": "x", "password": "y"}).status_code == 429
    )


def call(
    app: Any, method: str, path: str, body: bytes = b"", **environ: Any
) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    base = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
    }
    result = b"".join(app({**base, **environ}, start_response))
    return seen["status"], seen["headers"], result


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/greet", b'{"name": "Ada"}', "200 -"),
        ("POST", "/greet", b"{", "400 -"),
        ("POST", "/greet", b"x" * 2000, "413 -"),
        ("GET", "/nope", b"", "404 -"),
    ],
)
def test_custom_adapter_sample(method: str, path: str, body: bytes, status: str) -> None:
    """The plain-WSGI adapter gives envelopes, request ids and the body cap."""
    kit = WebKit.from_settings(Settings(env="test", max_body_bytes=1024))
    app = custom_adapter.wsgi_app(kit, {("POST", "/greet"): custom_adapter.greet})
    got_status, headers, payload = call(app, method, path, body, HTTP_X_REQUEST_ID="wsgi-1")
    assert got_status == status
    assert headers["X-Request-ID"] == "wsgi-1"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert payload.startswith(b'{"success":')


def test_custom_adapter_authenticates_and_limits_through_the_pipeline() -> None:
    """The sample's protected route is a 401 without a token and answers with one; its
    per-user limit counts each user apart."""
    kit = WebKit.from_settings(Settings(env="test", max_body_bytes=1024))
    routes = {("GET", "/me"): custom_adapter.me, ("POST", "/greet"): custom_adapter.greet}
    app = custom_adapter.wsgi_app(kit, routes)
    assert kit.tokens is not None
    alice = {"HTTP_AUTHORIZATION": f"Bearer {kit.tokens.issue_access('alice')}"}
    bob = {"HTTP_AUTHORIZATION": f"Bearer {kit.tokens.issue_access('bob')}"}
    assert call(app, "GET", "/me", b"")[0] == "401 -"
    got_status, _, payload = call(app, "GET", "/me", b"", **alice)
    assert got_status == "200 -"
    assert b'"id":"alice"' in payload
    greeting = b'{"name": "Ada"}'
    answers = [call(app, "POST", "/greet", greeting, **alice)[0] for _ in range(4)]
    assert answers == ["200 -", "200 -", "200 -", "429 -"]
    assert call(app, "POST", "/greet", greeting, **bob)[0] == "200 -"
