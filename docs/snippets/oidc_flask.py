"""Flask: provider tokens and the app's own on the same routes; the local user decides."""

from typing import Any

from flask import Flask

from backendkit.adapters.flask import BackendKit, current_user, require_auth
from backendkit.errors import Forbidden
from backendkit.responses import success
from backendkit.web import Principal, WebKit


def create_app(kit: WebKit) -> Flask:
    app = Flask(__name__)
    BackendKit(app, kit=kit)  # the kit has providers=[...] and the linking user_loader

    def caller() -> Principal:
        user = current_user()
        assert user is not None  # require_auth
        return user

    @app.get("/api/v1/users/me")
    @require_auth
    def me() -> Any:
        user = caller()  # user_id: the linked local id; user: the local record
        return success({"id": user.user_id, "role": user.user["role"], "via": user.method})

    @app.put("/api/v1/users/<user_id>")
    @require_auth
    def update(user_id: str) -> Any:
        user = caller()
        # A provider's sub "1" is not local user 1: only the linked id and the local role count.
        if user.user_id != user_id and user.user["role"] != "admin":
            raise Forbidden("You can only change your own account")
        return success({"id": user_id})

    return app
