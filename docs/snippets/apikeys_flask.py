"""Flask: create, list and revoke API keys; every route accepts bearer tokens and keys."""

from typing import Any

from flask import Flask, Response

from backendkit.adapters.flask import BackendKit, current_user, json_body, require_auth
from backendkit.auth import ApiKeyRequest, api_key_body, new_api_key_body
from backendkit.errors import ConfigurationError
from backendkit.responses import success
from backendkit.web import Principal, WebKit


def create_app(kit: WebKit) -> Flask:
    api_keys = kit.api_keys
    if api_keys is None:
        raise ConfigurationError("this app needs WebKit(api_keys=...)")
    app = Flask(__name__)
    BackendKit(app, kit=kit)

    def caller() -> Principal:
        user = current_user()
        assert user is not None  # require_auth
        return user

    @app.post("/api/v1/auth/api-keys")
    @require_auth
    @json_body(ApiKeyRequest)
    def create_key(body: ApiKeyRequest) -> Any:
        new = api_keys.create(
            caller(), name=body.name, scopes=body.scopes, expires_in=body.expires_in
        )
        return success(new_api_key_body(new)), 201

    @app.get("/api/v1/auth/api-keys")
    @require_auth
    def list_keys() -> Any:
        return success([api_key_body(key) for key in api_keys.list_keys(caller().user_id)])

    @app.delete("/api/v1/auth/api-keys/<key_id>")
    @require_auth
    def revoke_key(key_id: str) -> Response:
        api_keys.revoke(caller().user_id, key_id)
        response = Response(status=204)
        response.headers.remove("Content-Type")
        return response

    @app.get("/api/v1/users/me")
    @require_auth
    def me() -> Any:
        return success({"id": caller().user_id, "method": caller().method})

    return app
