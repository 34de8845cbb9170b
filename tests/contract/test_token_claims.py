"""Issuer and audience: a token signed with the app's key but meant for another is refused.

Each example issues its tokens with an ``iss`` and an ``aud`` (``BACKENDKIT_JWT_ISSUER`` /
``BACKENDKIT_JWT_AUDIENCE``, with per-app defaults) and requires both. The tokens here are
signed with the server's own JWT secret, so only the claims decide.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt
import pytest
from examples._shared.config import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, load_config
from tests.contract._api import Account, Api
from tests.contract._servers import RunningServer

ME = "/api/v1/users/me"


def _expected(server: RunningServer) -> tuple[str, str]:
    issuer = server.env.get("BACKENDKIT_JWT_ISSUER") or DEFAULT_JWT_ISSUER.format(app=server.app)
    audience = server.env.get("BACKENDKIT_JWT_AUDIENCE") or DEFAULT_JWT_AUDIENCE.format(
        app=server.app
    )
    return issuer, audience


def _resigned(server: RunningServer, account: Account, **changes: Any) -> str:
    """``account``'s access token with ``changes`` (``None`` drops a claim), signed again
    with the server's JWT secret and a fresh ``jti``."""
    header = jwt.get_unverified_header(account.access)
    claims = jwt.decode(account.access, options={"verify_signature": False})
    claims["jti"] = secrets.token_urlsafe(16)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    key = server.env["BACKENDKIT_JWT_SECRET"]
    return jwt.encode(claims, key, algorithm=header["alg"], headers=header)


def test_tokens_carry_the_configured_issuer_and_audience(api: Api) -> None:
    account = api.new_user()
    claims = jwt.decode(account.access, options={"verify_signature": False})
    assert (claims.get("iss"), claims.get("aud")) == _expected(api.server)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"iss": "https://evil.example"}, id="wrong-iss"),
        pytest.param({"aud": "another-service"}, id="wrong-aud"),
        pytest.param({"aud": ["another-service"]}, id="wrong-aud-list"),
        pytest.param({"iss": None}, id="no-iss"),
        pytest.param({"aud": None}, id="no-aud"),
    ],
)
def test_correctly_signed_token_for_another_issuer_or_audience_is_refused(
    api: Api, changes: dict[str, Any]
) -> None:
    account = api.new_user()
    response = api.get(ME, token=_resigned(api.server, account, **changes))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_TOKEN"


def test_valid_twin_resigned_token_with_the_right_claims_is_accepted(api: Api) -> None:
    """The same re-signing with the configured iss and aud: 200 for that user."""
    account = api.new_user()
    issuer, audience = _expected(api.server)
    response = api.get(ME, token=_resigned(api.server, account, iss=issuer, aud=audience))
    assert response.status_code == 200
    assert response.json()["data"]["id"] == account.id


# --------------------------------------------------------------------------- configuration

_DEV = {"BACKENDKIT_ENV": "development"}


@pytest.mark.parametrize("app", ["fastapi", "flask", "django"])
def test_each_example_has_an_issuer_and_audience_of_its_own_by_default(app: str) -> None:
    settings = load_config(app, {**_DEV, "BACKENDKIT_JWT_ISSUER": " "}).settings
    assert settings.jwt_issuer == f"backendkit-example-{app}"
    assert settings.jwt_audience == f"backendkit-example-{app}-api"


def test_the_deployment_sets_its_own_issuer_and_audience() -> None:
    environ = {
        **_DEV,
        "BACKENDKIT_JWT_ISSUER": "https://api.example.com",
        "BACKENDKIT_JWT_AUDIENCE": "users-api",
    }
    settings = load_config("flask", environ).settings
    assert (settings.jwt_issuer, settings.jwt_audience) == ("https://api.example.com", "users-api")
