"""API keys through every adapter's test client: an ``X-API-Key`` or ``Authorization: ApiKey``
request gets the same principal in Flask, FastAPI, Django and DRF, and every refusal (wrong
secret, unknown id, revoked, expired, malformed or huge header, two credentials) is the same
401, each next to a valid twin. OpenAPI declares the API-key schemes of a kit that has them."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import override_settings
from fastapi import FastAPI
from flask import Flask
from tests.adapters._api_key_urls import describe
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit
from tests.unit.auth._api_key_contract import Tampered

from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.adapters.django import reset_config
from backendkit.auth import ApiKeyService, MemoryApiKeyStore, NewApiKey
from backendkit.errors import ConfigurationError
from backendkit.responses import success
from backendkit.testing import FakeClock
from backendkit.web import Principal, WebKit

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

FRAMEWORKS = ["flask", "fastapi", "django", "drf"]
API_ONLY = {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/api/"]}
OWNER = Principal("42", roles=frozenset({"admin"}), scopes=frozenset({"notes:read", "x"}))


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Setup:
    kit: WebKit
    service: ApiKeyService
    clock: FakeClock
    key: NewApiKey


@pytest.fixture
def setup() -> Setup:
    clock = FakeClock()
    service = ApiKeyService(MemoryApiKeyStore(), keys=[b"s" * 32], clock=clock)
    kit = make_kit()
    kit = WebKit(**{**{f: getattr(kit, f) for f in kit.__dataclass_fields__}, "api_keys": service})
    key = service.create(OWNER, name="ci", scopes=["notes:read"])
    return Setup(kit, service, clock, key)


@pytest.fixture(autouse=True)
def django_kit() -> Iterator[None]:
    with override_settings(BACKENDKIT=API_ONLY):
        yield
    reset_config()


def flask_get(kit: WebKit) -> Callable[[dict[str, str]], Answer]:
    app = Flask("api-keys")
    bk_flask.BackendKit(app, kit=kit)

    @app.get("/api/me")
    @bk_flask.require_auth
    def me() -> Any:
        principal = bk_flask.current_user()
        assert principal is not None
        return success(describe(principal))

    client = app.test_client()

    def get(headers: dict[str, str]) -> Answer:
        response = client.get("/api/me", headers=headers)
        return Answer(response.status_code, response.get_json(), dict(response.headers))

    return get


def fastapi_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    bk_fastapi.install(app, kit)

    @app.get("/api/me")
    async def me(user: bk_fastapi.CurrentUser) -> Any:
        return success(describe(user))

    return app


def fastapi_get(kit: WebKit) -> Callable[[dict[str, str]], Answer]:
    client = TestClient(fastapi_app(kit))

    def get(headers: dict[str, str]) -> Answer:
        response = client.get("/api/me", headers=headers)
        return Answer(response.status_code, response.json(), dict(response.headers))

    return get


def django_get(kit: WebKit, path: str) -> Callable[[dict[str, str]], Answer]:
    use_kit(kit)
    client = client_for("tests.adapters._api_key_urls")

    def get(headers: dict[str, str]) -> Answer:
        response = client.get(path, headers=headers)
        return Answer(response.status_code, json.loads(response.content), dict(response.items()))

    return get


def client_of(framework: str, kit: WebKit) -> Callable[[dict[str, str]], Answer]:
    if framework == "flask":
        return flask_get(kit)
    if framework == "fastapi":
        return fastapi_get(kit)
    return django_get(kit, f"/api/{framework}/me")


def refused(answer: Answer, code: str = "INVALID_TOKEN") -> None:
    assert answer.status == 401, answer.body
    assert answer.body["success"] is False
    assert answer.body["error"]["code"] == code


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_both_headers_give_the_same_principal(framework: str, setup: Setup) -> None:
    """X-API-Key and Authorization: ApiKey give the owner, the key's scopes and no roles."""
    get = client_of(framework, setup.kit)
    secret = setup.key.secret
    expected = {
        "userId": "42",
        "method": "api_key",
        "scopes": ["notes:read"],
        "roles": [],
        "keyId": setup.key.key.id,
        "auth": "ApiKey" if framework == "drf" else None,
    }
    for headers in ({"X-API-Key": secret}, {"Authorization": f"ApiKey {secret}"}):
        answer = get(headers)
        assert answer.status == 200, answer.body
        assert answer.body["data"] == expected


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_refusal_is_401_and_its_twin_passes(framework: str, setup: Setup) -> None:
    """Wrong secret, unknown id, malformed and huge keys, two credentials, an empty ApiKey."""
    get = client_of(framework, setup.kit)
    secret = setup.key.secret
    tampered = Tampered(secret)
    for value in (tampered.wrong_secret(), tampered.unknown_id(), "bk_nope", "A" * 8000):
        refused(get({"X-API-Key": value}))
    refused(get({"Authorization": "ApiKey "}), "UNAUTHENTICATED")
    refused(get({"Authorization": f"Bearer {secret}", "X-API-Key": secret}), "UNAUTHENTICATED")
    assert get({"X-API-Key": secret}).status == 200


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_revoked_and_expired_keys_are_refused_at_once(framework: str, setup: Setup) -> None:
    """Revoked: the next request is a 401; an expiring key works until its expiry."""
    get = client_of(framework, setup.kit)
    expiring = setup.service.create(OWNER, name="short", expires_in=60)
    assert get({"X-API-Key": expiring.secret}).status == 200
    setup.clock.advance(60)
    refused(get({"X-API-Key": expiring.secret}))
    assert get({"X-API-Key": setup.key.secret}).status == 200
    setup.service.revoke("42", setup.key.key.id)
    refused(get({"X-API-Key": setup.key.secret}))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_kit_without_api_keys_ignores_x_api_key(framework: str, setup: Setup) -> None:
    """No api_keys: X-API-Key is no credential (401 UNAUTHENTICATED) and bearer works."""
    get = client_of(framework, make_kit())
    refused(get({"X-API-Key": setup.key.secret}), "UNAUTHENTICATED")
    refused(get({"Authorization": f"ApiKey {setup.key.secret}"}), "UNAUTHENTICATED")


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_bearer_tokens_still_work_beside_api_keys(framework: str, setup: Setup) -> None:
    """The app's own tokens authenticate as before on a kit with API keys."""
    assert setup.kit.tokens is not None
    token = setup.kit.tokens.issue_access("7")
    answer = client_of(framework, setup.kit)({"Authorization": f"Bearer {token}"})
    assert answer.status == 200
    assert answer.body["data"]["method"] == "bearer"


def test_openapi_declares_the_api_key_schemes(setup: Setup) -> None:
    """With api_keys: the ApiKey and X-API-Key schemes beside HTTPBearer, as alternatives."""
    document = fastapi_app(setup.kit).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "An API key, sent as `ApiKey <key>`.",
    }
    assert schemes["X-API-Key"]["in"] == "header"
    assert schemes["X-API-Key"]["name"] == "X-API-Key"
    assert document["paths"]["/api/me"]["get"]["security"] == [
        {"HTTPBearer": []},
        {"ApiKey": []},
        {"X-API-Key": []},
    ]


def test_openapi_without_api_keys_declares_bearer_only() -> None:
    """A kit that accepts no API keys documents none."""
    document = fastapi_app(make_kit()).openapi()
    assert set(document["components"]["securitySchemes"]) == {"HTTPBearer"}
    assert document["paths"]["/api/me"]["get"]["security"] == [{"HTTPBearer": []}]


async def test_a_kit_refuses_a_store_of_the_wrong_flavour(setup: Setup) -> None:
    """An async-only store under a sync framework stops the start; the right flavour starts."""

    class AsyncOnly:
        aadd, aget, alist_for = (
            MemoryApiKeyStore.aadd,
            MemoryApiKeyStore.aget,
            MemoryApiKeyStore.alist_for,
        )
        arevoke, atouch = MemoryApiKeyStore.arevoke, MemoryApiKeyStore.atouch

    service = ApiKeyService(AsyncOnly(), keys=[b"s" * 32])  # type: ignore[arg-type]
    kit = WebKit(settings=setup.kit.settings, tokens=setup.kit.tokens, api_keys=service)
    with pytest.raises(ConfigurationError, match="sync"):
        kit.check("sync")
    kit.check("async")


def test_a_credential_never_shows_its_value_and_needs_a_service() -> None:
    """Credential's repr hides the key; an api_key credential on a kit without api_keys is
    a configuration error (request_credential never makes one there); a bearer one works."""
    from backendkit.web import Credential, authenticate_credential

    credential = Credential("api_key", "bk_secret_value")
    assert "bk_secret_value" not in repr(credential)
    kit = make_kit()
    with pytest.raises(ConfigurationError, match="api_keys"):
        authenticate_credential(kit, credential)
    assert kit.tokens is not None
    token = kit.tokens.issue_access("7")
    assert authenticate_credential(kit, Credential("bearer", token)).user_id == "7"


def test_the_django_app_exports_only_its_store() -> None:
    """backendkit.adapters.django.apikeys names DjangoApiKeyStore lazily, nothing else."""
    import backendkit.adapters.django.apikeys as apikeys

    assert apikeys.DjangoApiKeyStore.__name__ == "DjangoApiKeyStore"
    with pytest.raises(AttributeError):
        _ = apikeys.Missing
