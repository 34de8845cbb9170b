"""The API-key guide's samples (docs/snippets/apikeys_*.py) run in every framework: a session
creates a key (shown once), the key authenticates, cannot create keys, another user's key id
is a 404, the owner revokes it and it is refused at once."""

from __future__ import annotations

import importlib.util
import json
import runpy
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import override_settings
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters.django import reset_config
from backendkit.settings import Settings
from backendkit.web import WebKit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

SNIPPETS = Path(__file__).resolve().parents[2] / "docs" / "snippets"
API_ONLY = {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/api/"]}
#: status, JSON body (None when empty)
Send = Callable[[str, str, dict[str, str], Any], tuple[int, Any]]


def load(name: str) -> ModuleType:
    """Import a snippet as a module (Django resolves URLconfs by module name)."""
    module_name = f"docs_snippet_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SNIPPETS / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@pytest.fixture(autouse=True)
def api_prefix() -> Iterator[None]:
    with override_settings(BACKENDKIT=API_ONLY):
        yield
    reset_config()


@pytest.fixture
def kit() -> WebKit:
    build = runpy.run_path(str(SNIPPETS / "apikeys_kit.py"))["build_kit"]
    return build(Settings(env="test", secret_key="api-key-guide-secret-0123456789"))  # type: ignore[no-any-return]


def bearer(kit: WebKit, sub: str, scope: str = "notes:read notes:write") -> dict[str, str]:
    assert kit.tokens is not None
    return {"Authorization": "Bearer " + kit.tokens.issue_access(sub, claims={"scope": scope})}


def fastapi_send(kit: WebKit) -> Send:
    client = TestClient(load("apikeys_fastapi").create_app(kit))

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        response = client.request(method, path, headers=headers, json=body)
        return response.status_code, response.json() if response.content else None

    return send


def flask_send(kit: WebKit) -> Send:
    client = load("apikeys_flask").create_app(kit).test_client()

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, headers=headers, json=body)
        return response.status_code, response.get_json(silent=True)

    return send


def django_send(kit: WebKit) -> Send:
    use_kit(kit)
    client = client_for(load("apikeys_django").__name__)

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body)
        response = client.generic(
            method, path, data=data or "", content_type="application/json", headers=headers
        )
        return response.status_code, json.loads(response.content) if response.content else None

    return send


@pytest.mark.parametrize("make_send", [fastapi_send, flask_send, django_send])
def test_the_key_routes_of_each_framework(kit: WebKit, make_send: Callable[[WebKit], Send]) -> None:
    """Create (201, key shown once), use, list without secrets, refuse key-made keys and
    another user's id (404), revoke (204), then the key is a 401."""
    send = make_send(kit)
    path = "/api/v1/auth/api-keys"
    status, created = send(
        "POST",
        path,
        bearer(kit, "7"),
        {"name": "ci", "scopes": ["notes:read"], "expiresInDays": 30},
    )
    assert status == 201, created
    data = created["data"]
    assert data["key"].startswith(data["prefix"] + "_")
    assert (data["scopes"], data["lastUsedAt"]) == (["notes:read"], None)
    assert data["expiresAt"].endswith("Z")
    key = {"X-API-Key": data["key"]}

    status, listed = send("GET", path, key, None)
    assert status == 200
    assert [item["id"] for item in listed["data"]] == [data["id"]]
    assert "key" not in listed["data"][0]
    status, refused = send("POST", path, key, {"name": "from a key"})
    assert (status, refused["error"]["code"]) == (403, "FORBIDDEN")
    status, _ = send(
        "POST", path, bearer(kit, "7", "notes:read"), {"name": "x", "scopes": ["admin"]}
    )
    assert status == 403
    status, missing = send("DELETE", f"{path}/{data['id']}", bearer(kit, "8"), None)
    assert (status, missing["error"]["code"]) == (404, "NOT_FOUND")

    assert send("DELETE", f"{path}/{data['id']}", bearer(kit, "7"), None) == (204, None)
    status, gone = send("GET", path, {"Authorization": f"ApiKey {data['key']}"}, None)
    assert (status, gone["error"]["code"]) == (401, "INVALID_TOKEN")


def test_the_drf_sample(kit: WebKit) -> None:
    """DRF: request.auth is the ApiKey; has_scopes reads the key's scopes (403 without)."""
    use_kit(kit)
    assert kit.api_keys is not None
    owner = kit.api_keys.create(
        _principal("7", "notes:read notes:write"), name="ci", scopes=["notes:read"]
    )
    narrow = kit.api_keys.create(_principal("7", "notes:read"), name="none", scopes=[])
    client = client_for(load("apikeys_drf").__name__)
    me = json.loads(client.get("/api/drf/me", headers={"X-API-Key": owner.secret}).content)
    assert me["data"]["method"] == "api_key"
    assert me["data"]["key"]["id"] == owner.key.id
    assert client.get("/api/drf/notes", headers={"X-API-Key": owner.secret}).status_code == 200
    assert client.get("/api/drf/notes", headers={"X-API-Key": narrow.secret}).status_code == 403


def _principal(user_id: str, scope: str) -> Any:
    from backendkit.web import Principal

    return Principal(user_id, scopes=frozenset(scope.split()))
