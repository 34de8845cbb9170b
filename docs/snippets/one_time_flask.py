"""Flask: a password reset in two routes, request (202 whatever the email) and confirm."""

from collections.abc import Callable
from typing import Any

from flask import Flask, Response
from pydantic import Field

from backendkit.adapters.flask import BackendKit, client_key, json_body
from backendkit.auth import PASSWORD_RESET, OneTimeTokens
from backendkit.errors import ConfigurationError
from backendkit.responses import success
from backendkit.validation import ApiModel
from backendkit.web import WebKit


class ResetRequest(ApiModel):
    email: str = Field(max_length=320)  # any string: a malformed email gets the same 202


class ResetConfirm(ApiModel):
    token: str = Field(max_length=100)
    password: str = Field(min_length=12, max_length=128)  # your password policy


def create_app(
    kit: WebKit,
    tokens: OneTimeTokens,  # its sender mails the link (or queues the mail)
    find_user: Callable[[str], str | None],  # email -> user id, or None
    set_password: Callable[[str, str], None],  # hash and save the new password
) -> Flask:
    sessions = kit.tokens
    if sessions is None:
        raise ConfigurationError("this app needs the kit's TokenService")
    app = Flask(__name__)
    BackendKit(app, kit=kit)

    @app.post("/api/v1/auth/password-reset")
    @json_body(ResetRequest)
    def request_reset(body: ResetRequest) -> Any:
        # The same work and the same answer whether the email has an account or not.
        user_id = find_user(body.email)
        tokens.issue(PASSWORD_RESET, body.email, user_id=user_id, address=client_key())
        return success(message="If the account exists, a reset link is on its way"), 202

    @app.post("/api/v1/auth/password-reset/confirm")
    @json_body(ResetConfirm)
    def confirm_reset(body: ResetConfirm) -> Response:
        # Used, expired, changed or another purpose: InvalidOneTimeToken, a 400.
        user_id = tokens.consume(PASSWORD_RESET, body.token).user_id
        set_password(user_id, body.password)
        tokens.invalidate(user_id, PASSWORD_RESET)  # other links in the mailbox
        sessions.revoke_user(user_id)  # every session of the account ends
        response = Response(status=204)
        response.headers.remove("Content-Type")
        return response

    return app
