"""Provider access tokens on the example apps: local users linked by (issuer, subject).

Each app runs with ``BACKENDKIT_OIDC_ISSUER`` and ``BACKENDKIT_OIDC_AUDIENCE`` naming a
real identity provider on a free local port (``tests._provider.LocalProvider``: discovery
document, JWKS, tokens signed as a provider would). One provider and one server per app
serve the whole module; each test uses subjects of its own. A second server per app
names a provider whose port refuses every connection, for the outage.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from tests._provider import AUDIENCE, LocalProvider
from tests._services import DeadPort
from tests.contract._api import Api
from tests.contract._servers import APPS, RunningServer, example_server
from tests.contract.test_password_reset import RESET, issued_for

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
KEYS = "/api/v1/auth/api-keys"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalProvider]:
    """The identity provider, shared by the three apps' servers."""
    provider = LocalProvider()
    try:
        yield provider
    finally:
        provider.close()


def _oidc_env(workdir: Any, issuer: str) -> dict[str, str]:
    return {
        "BACKENDKIT_DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
        "BACKENDKIT_OIDC_ISSUER": issuer,
        "BACKENDKIT_OIDC_AUDIENCE": AUDIENCE,
    }


@pytest.fixture(scope="module", params=APPS)
def oidc(
    request: pytest.FixtureRequest, idp: LocalProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One app accepting the provider's tokens (SQLite, one worker)."""
    workdir = tmp_path_factory.mktemp(f"oidc-{request.param}")
    with example_server(
        request.param, "oidc", workdir=workdir, workers=1, extra_env=_oidc_env(workdir, idp.issuer)
    ) as running:
        yield running


@pytest.fixture
def api(oidc: RunningServer) -> Iterator[Api]:
    """A checking client of the OIDC server, with an address of its own."""
    with Api(oidc) as client:
        yield client


def subject() -> str:
    """A provider subject no other test uses."""
    return "sub-" + secrets.token_hex(6)


def provider_token(api: Api, idp: LocalProvider, **claims: Any) -> str:
    """A provider access token (recorded as a secret for the server log check)."""
    token = idp.token(**claims)
    api.server.secrets.tokens.add(token)
    return token


def me(api: Api, token: str) -> dict[str, Any]:
    """``GET /users/me`` with ``token``: 200 and its data."""
    response = api.get(ME, token=token)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_first_seen_subject_gets_a_local_user(api: Api, idp: LocalProvider) -> None:
    """A new (iss, sub): a local user with role ``user``, its name from the token, and an
    email of its own (never the email the provider claims, here the admin's); the same
    subject again is the same user; another subject is another user."""
    admin = api.admin()
    sub = subject()
    first = me(api, provider_token(api, idp, sub=sub, name="Pat Provider", email=admin.email))
    assert (first["role"], first["name"]) == ("user", "Pat Provider")
    assert first["id"] != admin.id
    assert first["email"] != admin.email
    again = me(api, provider_token(api, idp, sub=sub, name="Renamed At Provider"))
    assert (again["id"], again["email"]) == (first["id"], first["email"])
    other = me(api, provider_token(api, idp, sub=subject(), email=admin.email))
    assert other["id"] not in {first["id"], admin.id}
    assert other["email"] not in {first["email"], admin.email}
    assert me(api, admin.access)["email"] == admin.email  # the admin's own account is intact


def test_the_name_falls_back_to_the_username_then_a_default(api: Api, idp: LocalProvider) -> None:
    """``preferred_username`` without ``name``; neither: "Provider user"."""
    named = me(api, provider_token(api, idp, sub=subject(), preferred_username="pat"))
    assert named["name"] == "pat"
    assert me(api, provider_token(api, idp, sub=subject()))["name"] == "Provider user"


def test_a_provider_sub_1_is_not_local_user_1(api: Api, idp: LocalProvider) -> None:
    """A provider token whose sub is "1" cannot update user 1 (403); it can update the
    local user it is linked to (the valid twin), which is not user 1."""
    token = provider_token(api, idp, sub="1")
    linked = me(api, token)
    assert str(linked["id"]) != "1"
    refused = api.put("/api/v1/users/1", token=token, json_body={"name": "Hacked"})
    assert refused.status_code == 403, refused.text
    own = api.put(f"/api/v1/users/{linked['id']}", token=token, json_body={"name": "Mine"})
    assert own.status_code == 200, own.text
    assert me(api, token)["name"] == "Mine"


def test_provider_roles_grant_nothing(api: Api, idp: LocalProvider) -> None:
    """Roles, groups and scopes named "admin" by the provider: the local role stays
    ``user`` and admin routes answer 403; once a local admin promotes the linked user, the
    same kind of token acts as an admin (the valid twin)."""
    sub, victim = subject(), api.new_user()
    claims = {
        "sub": sub,
        "roles": ["admin"],
        "role": "admin",
        "realm_access": {"roles": ["admin"]},
        "groups": ["admin"],
        "scope": "openid admin users:write",
    }
    token = provider_token(api, idp, **claims)
    linked = me(api, token)
    assert linked["role"] == "user"
    path = f"/api/v1/users/{linked['id']}"
    assert api.put(path, token=token, json_body={"role": "admin"}).status_code == 403
    assert api.delete(f"/api/v1/users/{victim.id}", token=token).status_code == 403
    admin = api.admin()
    assert api.put(path, token=admin.access, json_body={"role": "admin"}).status_code == 200
    promoted = provider_token(api, idp, **claims)
    assert me(api, promoted)["role"] == "admin"
    assert api.delete(f"/api/v1/users/{victim.id}", token=promoted).status_code == 204


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://another-api.example.test"},
        {"aud": None},
        {"nonce": "n-0S6_WzA2Mj"},  # an ID token's claims
        {"azp": AUDIENCE},  # an ID token's shape: its one audience is its client
        {"typ": "ID"},  # Keycloak's ID token
        {"iss": "https://login.other.example"},
        {"exp": 1_000_000_000},
    ],
    ids=[
        "wrong-audience",
        "no-audience",
        "id-token-nonce",
        "id-token-shape",
        "keycloak-id-token",
        "wrong-issuer",
        "expired",
    ],
)
def test_tokens_not_for_this_api_are_refused(
    api: Api, idp: LocalProvider, claims: dict[str, Any]
) -> None:
    """Each refused token: 401 with a Bearer challenge; the same subject's valid token is
    accepted just after (the valid twin)."""
    sub = subject()
    response = api.get(ME, token=provider_token(api, idp, sub=sub, **claims))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in {"INVALID_TOKEN", "UNAUTHENTICATED"}
    assert me(api, provider_token(api, idp, sub=sub))["role"] == "user"


def test_a_provider_user_has_no_password(api: Api, idp: LocalProvider) -> None:
    """Password login with its email fails like a wrong password; it cannot set a password
    through a "current" one it never had; a reset for its email is the same 202 as for an
    unknown email and issues no token. A local user's wrong password is the twin."""
    token = provider_token(api, idp, sub=subject())
    linked = me(api, token)
    local = api.register()
    bodies = []
    for email in (linked["email"], local.email):
        response = api.post(LOGIN, json_body={"email": email, "password": "guess-" + "x" * 12})
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        error.pop("requestId")
        bodies.append(error)
    assert bodies[0] == bodies[1]
    change = api.put(
        f"/api/v1/users/{linked['id']}",
        token=token,
        json_body={"password": "a-new-long-passphrase", "currentPassword": "guess-xxxxxxxxxx"},
    )
    assert 400 <= change.status_code < 500, change.text
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    answers = [api.post(RESET, json_body={"email": e}) for e in (linked["email"], unknown)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert issued_for(api.server, linked["email"]) == []
    assert me(api, token)["id"] == linked["id"]


def test_a_provider_session_manages_api_keys(api: Api, idp: LocalProvider) -> None:
    """A provider token creates a key (201) that authenticates as the linked local user;
    logout with a provider token is a clear answer, never a 5xx."""
    token = provider_token(api, idp, sub=subject())
    linked = me(api, token)
    created = api.post(KEYS, token=token, json_body={"name": "provider"})
    assert created.status_code == 201, created.text
    key = created.json()["data"]["key"]
    api.server.secrets.tokens.add(key)
    assert me_with_key(api, key)["id"] == linked["id"]
    logout = api.post(LOGOUT, token=token)
    assert logout.status_code in {204, 400, 401, 403}, logout.text


def me_with_key(api: Api, key: str) -> dict[str, Any]:
    """``GET /users/me`` with an API key: 200 and its data."""
    response = api.get(ME, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


# ---------------------------------------------------------------------------- the outage


@pytest.fixture(scope="module", params=APPS)
def provider_down(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    """One app whose provider refuses every connection from the start (no key cached)."""
    workdir = tmp_path_factory.mktemp(f"oidc-down-{request.param}")
    dead = DeadPort()
    issuer = f"http://127.0.0.1:{dead.port}"
    try:
        with example_server(
            request.param,
            "oidc-down",
            workdir=workdir,
            workers=1,
            extra_env=_oidc_env(workdir, issuer),
        ) as running:
            yield running, issuer
    finally:
        dead.close()


def test_provider_down_with_no_cached_key_is_503(
    provider_down: tuple[RunningServer, str], idp: LocalProvider
) -> None:
    """A provider token: 503 SERVICE_UNAVAILABLE with Retry-After, every time; the app's own
    tokens still work (the valid twin); the failed fetch is logged with its reason."""
    server, issuer = provider_down
    with Api(server) as api:
        token = provider_token(api, idp, iss=issuer, sub=subject())
        for _ in range(3):
            response = api.get(ME, token=token)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert int(response.headers["retry-after"]) >= 1
        admin = api.admin()
        assert me(api, admin.access)["email"] == admin.email
    logged = [json.loads(line) for line in server.log_text().splitlines() if "oidc_keys" in line]
    assert any(event.get("event") == "oidc_keys_unavailable" for event in logged)
