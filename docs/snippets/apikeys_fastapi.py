"""FastAPI: create, list and revoke API keys; every route accepts bearer tokens and keys."""

from typing import Annotated, Any

from fastapi import FastAPI, Response

from backendkit.adapters.fastapi import CurrentUser, JsonBody, install
from backendkit.auth import ApiKeyRequest, api_key_body, new_api_key_body
from backendkit.errors import ConfigurationError
from backendkit.responses import success
from backendkit.web import WebKit


def create_app(kit: WebKit) -> FastAPI:
    api_keys = kit.api_keys
    if api_keys is None:
        raise ConfigurationError("this app needs WebKit(api_keys=...)")
    app = FastAPI()
    install(app, kit)

    @app.post("/api/v1/auth/api-keys", status_code=201)
    async def create_key(
        user: CurrentUser, body: Annotated[ApiKeyRequest, JsonBody(ApiKeyRequest)]
    ) -> dict[str, Any]:
        # 403 for a caller authenticated by an API key, or asking for scopes it lacks.
        new = await api_keys.acreate(
            user, name=body.name, scopes=body.scopes, expires_in=body.expires_in
        )
        return success(new_api_key_body(new))  # the only answer that holds the key

    @app.get("/api/v1/auth/api-keys")
    async def list_keys(user: CurrentUser) -> dict[str, Any]:
        return success([api_key_body(key) for key in await api_keys.alist_keys(user.user_id)])

    @app.delete("/api/v1/auth/api-keys/{key_id}", status_code=204, response_class=Response)
    async def revoke_key(key_id: str, user: CurrentUser) -> Response:
        await api_keys.arevoke(user.user_id, key_id)  # 404 for another user's key
        return Response(status_code=204)

    @app.get("/api/v1/users/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return success({"id": user.user_id, "method": user.method})

    return app
