"""The FastAPI example's OAuth2 password grant (``POST /api/v1/auth/token``), as Swagger UI's
Authorize uses it: the OpenAPI document offers the flow, the form gets an RFC 6749 answer
whose top-level access_token is a bearer token, and errors follow section 5.2."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.contract._api import Account, Api

pytestmark = pytest.mark.contract_only(app="fastapi", backend="embedded")

TOKEN = "/api/v1/auth/token"


def _post_form(api: Api, fields: dict[str, str]) -> httpx.Response:
    if fields.get("password"):
        api.server.secrets.passwords.add(fields["password"])
    response = api.http.post(TOKEN, data=fields)
    if response.status_code == 200:
        body = response.json()
        api.server.secrets.tokens.update({body["access_token"], body["refresh_token"]})
    return response


def _grant(account: Account, **changes: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "username": account.email,
        "password": account.password,
        **changes,
    }


def test_openapi_offers_the_password_flow_beside_bearer(api: Api) -> None:
    """securitySchemes has an oauth2 password flow whose tokenUrl is the token route, and an
    operation that takes a bearer token takes it too."""
    document: dict[str, Any] = api.http.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A backendkit access token.",
    }
    assert schemes["OAuth2Password"]["flows"] == {"password": {"tokenUrl": TOKEN, "scopes": {}}}
    me = document["paths"]["/api/v1/users/me"]["get"]["security"]
    assert {"HTTPBearer": []} in me
    assert {"OAuth2Password": []} in me
    form = document["paths"][TOKEN]["post"]["requestBody"]["content"]
    assert set(form) == {"application/x-www-form-urlencoded"}


def test_the_form_answers_a_top_level_access_token_usable_as_bearer(api: Api) -> None:
    """200 {access_token, token_type: bearer, expires_in, refresh_token}, no-store; the
    access token opens /users/me for that user."""
    account = api.register()
    response = _post_form(api, _grant(account))
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    me = api.get("/api/v1/users/me", token=body["access_token"])
    assert me.status_code == 200
    assert me.json()["data"]["email"] == account.email


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"password": "wrong-password-123"}, "invalid_grant"),
        ({"username": "nobody@example.com"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"password": ""}, "invalid_request"),
    ],
    ids=["wrong-password", "unknown-user", "other-grant", "missing-password"],
)
def test_refusals_are_rfc_6749_errors_and_the_right_form_passes(
    api: Api, change: dict[str, str], error: str
) -> None:
    """Each wrong form is a 400 {"error": ...} (not an envelope); the right one is a 200."""
    account = api.register()
    refused = _post_form(api, _grant(account, **change))
    assert refused.status_code == 400
    assert refused.json()["error"] == error
    assert set(refused.json()) == {"error", "error_description"}
    assert _post_form(api, _grant(account)).status_code == 200


def test_a_json_body_is_an_invalid_request(api: Api) -> None:
    """The grant is a form: JSON is refused with invalid_request."""
    account = api.register()
    response = api.http.post(
        TOKEN, json={"grant_type": "password", "username": account.email, "password": "x"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_the_token_route_shares_the_login_limit(api: Api) -> None:
    """Ten wrong attempts per address per minute across /login and /token together: the
    next form is a 429 in the envelope, with Retry-After."""
    account = api.register()
    for _ in range(5):
        api.post("/api/v1/auth/login", json_body={"email": "x@example.com", "password": "wrong-pw"})
    statuses = [
        _post_form(api, _grant(account, username=f"u{i}@example.com")).status_code for i in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    limited = _post_form(api, _grant(account))
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1


def test_swagger_client_credentials_in_basic_auth_do_not_get_in_the_way(api: Api) -> None:
    """Swagger sends client_id/client_secret as HTTP Basic (or in the form) when filled in;
    this public client ignores them: still a 200."""
    account = api.register()
    response = api.http.post(
        TOKEN,
        data={**_grant(account), "client_id": "swagger", "scope": ""},
        headers={"Authorization": "Basic c3dhZ2dlcjo="},
    )
    api.server.secrets.passwords.add(account.password)
    assert response.status_code == 200, response.text
    body = response.json()
    api.server.secrets.tokens.update({body["access_token"], body["refresh_token"]})
    assert body["token_type"] == "bearer"
