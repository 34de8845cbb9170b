"""Provider tokens through the pipeline, in the FastAPI (async) and Flask (sync) test
clients: a provider's ``sub`` never acts as the local user of the same id, roles grant
nothing unmapped, the app's own tokens and a provider's work side by side, and a provider
that is down gives a 503 with Retry-After.

The example apps' ``PUT /api/v1/users/1`` gets the same test when they accept provider
tokens (a later step of the issue); here a small app of each framework stands in.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._provider import AUDIENCE, LocalProvider

from backendkit._b64 import b64url_encode
from backendkit.adapters import fastapi as bk_fastapi
from backendkit.adapters import flask as bk_flask
from backendkit.auth import ClaimsMapping, JWTKey, OIDCProvider, OIDCVerifier, TokenService
from backendkit.errors import ConfigurationError, Forbidden
from backendkit.responses import success
from backendkit.settings import Settings
from backendkit.web import LinkedUser, Principal, WebKit, provider_for

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient wants httpx2; httpx is what we have.
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

OWN_ISSUER = "https://api.example.test/auth"


@functools.cache
def provider_key() -> JWTKey:
    return JWTKey.generate("RS256", kid="idp-1")


@pytest.fixture
def idp() -> Iterator[LocalProvider]:
    provider = LocalProvider([provider_key()])
    try:
        yield provider
    finally:
        provider.close()


def own_tokens() -> TokenService:
    return TokenService(JWTKey.hmac("k" * 32), issuer=OWN_ISSUER, store="memory://")


def make_kit(
    idp: LocalProvider,
    *,
    loader: Callable[[Principal], Any] | None = None,
    mapping: ClaimsMapping | None = None,
    tokens: TokenService | None = None,
    timeout: float = 5.0,
) -> WebKit:
    verifier = OIDCVerifier(
        OIDCProvider(idp.issuer, timeout=timeout), audience=AUDIENCE, mapping=mapping
    )
    return WebKit.from_settings(
        Settings(env="test", secret_key="s" * 32),
        tokens=tokens or own_tokens(),
        providers=[verifier],
        user_loader=loader,
    )


def linking_loader(idp: LocalProvider) -> Callable[[Principal], Any]:
    """The app's loader: provider (iss, sub) pairs linked to local ids; provider user 1 is
    local user 7. Unknown pairs are refused (None)."""
    links = {(idp.issuer, "1"): "7"}

    def load(principal: Principal) -> Any:
        if principal.method == "provider":
            local = links.get((principal.issuer or "", principal.subject or ""))
            return None if local is None else LinkedUser(local, {"id": local})
        return {"id": principal.user_id}

    return load


def describe(principal: Principal) -> dict[str, Any]:
    return {
        "userId": principal.user_id,
        "method": principal.method,
        "issuer": principal.issuer,
        "subject": principal.subject,
        "user": principal.user,
    }


def update_user(principal: Principal, user_id: str) -> dict[str, Any]:
    if principal.user_id != user_id:  # the owner check of PUT /api/v1/users/{id}
        raise Forbidden()
    return describe(principal)


def fastapi_client(kit: WebKit) -> TestClient:
    app = FastAPI()
    bk_fastapi.install(app, kit)

    @app.put("/api/v1/users/{user_id}")
    async def put_user(user_id: str, user: bk_fastapi.CurrentUser) -> Any:
        return success(update_user(user, user_id))

    @app.get("/api/v1/me")
    async def me(user: bk_fastapi.CurrentUser) -> Any:
        return success(describe(user))

    @app.get("/api/v1/admin", dependencies=[bk_fastapi.require_roles("admin")])
    async def admin() -> Any:
        return success()

    return TestClient(app)


def flask_client(kit: WebKit) -> Any:
    app = Flask("oidc")
    bk_flask.BackendKit(app, kit=kit)

    @app.put("/api/v1/users/<user_id>")
    @bk_flask.require_auth
    def put_user(user_id: str) -> Any:
        principal = bk_flask.current_user()
        assert principal is not None
        return success(update_user(principal, user_id))

    @app.get("/api/v1/me")
    @bk_flask.require_auth
    def me() -> Any:
        principal = bk_flask.current_user()
        assert principal is not None
        return success(describe(principal))

    @app.get("/api/v1/admin")
    @bk_flask.require_roles("admin")
    def admin() -> Any:
        return success()

    return app.test_client()


CLIENTS = {"fastapi": fastapi_client, "flask": flask_client}


@pytest.fixture(params=sorted(CLIENTS))
def client_for(request: pytest.FixtureRequest) -> Callable[[WebKit], Any]:
    """Builds the app in one framework's test client (FastAPI: async; Flask: sync)."""
    return CLIENTS[request.param]


def body(response: Any) -> Any:
    """The JSON body from either client (Flask's ``json`` is a property)."""
    return response.json() if callable(response.json) else response.json


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}


def test_provider_sub_1_cannot_act_as_local_user_1(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """A provider token with sub "1" is linked by (iss, sub) to local user 7: it may not
    update user 1, and may update user 7; the app's own token for user 1 may update 1."""
    kit = make_kit(idp, loader=linking_loader(idp))
    client = client_for(kit)
    provider_token = bearer(idp.token(sub="1"))
    refused = client.put("/api/v1/users/1", headers=provider_token)
    assert refused.status_code == 403
    assert body(refused)["error"]["code"] == "FORBIDDEN"
    linked = client.put("/api/v1/users/7", headers=provider_token)
    assert linked.status_code == 200
    assert body(linked)["data"] == {
        "userId": "7",
        "method": "provider",
        "issuer": idp.issuer,
        "subject": "1",
        "user": {"id": "7"},
    }
    assert kit.tokens is not None
    own = bearer(kit.tokens.issue_access("1"))
    mine = client.put("/api/v1/users/1", headers=own)
    assert mine.status_code == 200
    assert body(mine)["data"]["method"] == "bearer"
    assert body(mine)["data"]["issuer"] == OWN_ISSUER


def test_unlinked_provider_subject_is_refused_by_the_loader(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """A provider subject the loader does not link (returns None) is a 401."""
    client = client_for(make_kit(idp, loader=linking_loader(idp)))
    response = client.put("/api/v1/users/2", headers=bearer(idp.token(sub="2")))
    assert response.status_code == 401
    assert body(response)["error"]["code"] == "INVALID_TOKEN"


def test_without_a_loader_the_provider_subject_is_namespaced(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """No loader: user_id is "<issuer>#<sub>", which no local id equals."""
    client = client_for(make_kit(idp))
    assert client.put("/api/v1/users/1", headers=bearer(idp.token(sub="1"))).status_code == 403
    response = client.get("/api/v1/me", headers=bearer(idp.token(sub="1")))
    assert response.status_code == 200
    assert body(response)["data"]["userId"] == f"{idp.issuer}#1"
    assert body(response)["data"]["subject"] == "1"


def test_provider_roles_grant_nothing_unless_mapped(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """A provider "admin" role opens the admin route only through an explicit mapping."""
    token = bearer(idp.token(roles=["admin"]))
    unmapped = client_for(make_kit(idp))
    assert unmapped.get("/api/v1/admin", headers=token).status_code == 403
    mapped = client_for(make_kit(idp, mapping=ClaimsMapping(roles={"admin": "admin"})))
    assert mapped.get("/api/v1/admin", headers=token).status_code == 200
    assert mapped.get("/api/v1/admin", headers=bearer(idp.token())).status_code == 403


def test_tokens_of_unknown_issuers_go_to_the_apps_own_service(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """A token naming another issuer (or forged with the provider's format) is a 401."""
    client = client_for(make_kit(idp))
    other = idp.token(iss="https://elsewhere.example", sub="1")
    response = client.put("/api/v1/users/1", headers=bearer(other))
    assert response.status_code == 401
    assert body(response)["error"]["code"] == "INVALID_TOKEN"
    forged = idp.token(JWTKey.generate("RS256", kid="idp-1"), sub="1")
    assert client.put("/api/v1/users/1", headers=bearer(forged)).status_code == 401


def test_provider_down_without_cached_keys_is_503(
    idp: LocalProvider, client_for: Callable[[WebKit], Any]
) -> None:
    """Provider port closed, no key cached: 503 SERVICE_UNAVAILABLE with Retry-After."""
    token = bearer(idp.token(sub="1"))
    idp.stop()
    client = client_for(make_kit(idp, timeout=0.5))
    response = client.put("/api/v1/users/1", headers=token)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert body(response)["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_kit_configuration(idp: LocalProvider) -> None:
    """Two verifiers for one issuer are refused; a kit with providers only refuses other
    tokens with a 401 rather than failing."""
    verifier = OIDCVerifier(idp.issuer, audience=AUDIENCE)
    twin = OIDCVerifier(idp.issuer, audience="other")
    settings = Settings(env="test", secret_key="s" * 32)
    with pytest.raises(ConfigurationError, match="same issuer"):
        WebKit(settings=settings, providers=[verifier, twin])
    clash = OIDCVerifier(OWN_ISSUER, audience=AUDIENCE)
    with pytest.raises(ConfigurationError, match="same issuer"):
        WebKit(settings=settings, tokens=own_tokens(), providers=[clash])
    only = WebKit(settings=settings, providers=[verifier])
    assert only.providers == (verifier,)
    client = fastapi_client(only)
    stranger = own_tokens().issue_access("1")
    assert client.put("/api/v1/users/1", headers=bearer(stranger)).status_code == 401
    assert provider_for(only, stranger) is None
    assert provider_for(only, idp.token()) is verifier
    assert provider_for(only, "a.b") is None
    assert provider_for(only, "a.!!!.c") is None
    assert provider_for(only, "x" * 70_000) is None
    assert provider_for(only, "e30.e30.e30") is None  # {} . {} . {}: no iss


@settings(max_examples=300)
@given(
    token=st.one_of(
        st.text(max_size=300),
        st.lists(st.text(alphabet="AZaz09-_=+/.!{}", max_size=60), min_size=3, max_size=3).map(
            ".".join
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "iss": st.one_of(
                    st.just("https://idp.example"), st.integers(), st.lists(st.text(max_size=5))
                ),
                "sub": st.text(max_size=5),
            },
        ).map(lambda payload: "e30." + b64url_encode(json.dumps(payload).encode()) + ".sig"),
    )
)
def test_routing_never_raises(token: str) -> None:
    """Whatever the bearer value, choosing a verifier raises nothing: it is the verifier's
    job to refuse, with its own reason."""
    verifier = OIDCVerifier("https://idp.example", audience=AUDIENCE)
    kit = WebKit(settings=Settings(env="test", secret_key="s" * 32), providers=[verifier])
    assert provider_for(kit, token) in (None, verifier)
