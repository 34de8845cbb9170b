"""FastAPI: provider tokens and the app's own on the same routes; the local user decides."""

from typing import Any

from fastapi import FastAPI

from backendkit.adapters.fastapi import CurrentUser, install
from backendkit.errors import Forbidden
from backendkit.responses import success
from backendkit.web import WebKit


def create_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)  # the kit has providers=[...] and the linking user_loader

    @app.get("/api/v1/users/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        # user.user_id is the linked local id; user.user the local record.
        return success({"id": user.user_id, "role": user.user["role"], "via": user.method})

    @app.put("/api/v1/users/{user_id}")
    async def update(user_id: str, user: CurrentUser) -> dict[str, Any]:
        # A provider's sub "1" is not local user 1: only the linked id and the local role count.
        if user.user_id != user_id and user.user["role"] != "admin":
            raise Forbidden("You can only change your own account")
        return success({"id": user_id})

    return app
