"""FastAPI: a password reset in two routes, request (202 whatever the email) and confirm."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Response
from pydantic import Field

from backendkit.adapters.fastapi import ClientKey, JsonBody, install
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
    tokens: OneTimeTokens,  # its sender mails the link; aissue needs an AsyncRateLimiter
    find_user: Callable[[str], Awaitable[str | None]],  # email -> user id, or None
    set_password: Callable[[str, str], Awaitable[None]],  # hash and save the new password
) -> FastAPI:
    sessions = kit.tokens
    if sessions is None:
        raise ConfigurationError("this app needs the kit's TokenService")
    app = FastAPI()
    install(app, kit)

    @app.post("/api/v1/auth/password-reset", status_code=202)
    async def request_reset(
        body: Annotated[ResetRequest, JsonBody(ResetRequest)], ip: ClientKey
    ) -> dict[str, Any]:
        # The same work and the same answer whether the email has an account or not.
        user_id = await find_user(body.email)
        await tokens.aissue(PASSWORD_RESET, body.email, user_id=user_id, address=ip)
        return success(message="If the account exists, a reset link is on its way")

    @app.post("/api/v1/auth/password-reset/confirm", status_code=204, response_class=Response)
    async def confirm_reset(body: Annotated[ResetConfirm, JsonBody(ResetConfirm)]) -> Response:
        # Used, expired, changed or another purpose: InvalidOneTimeToken, a 400.
        user_id = (await tokens.aconsume(PASSWORD_RESET, body.token)).user_id
        await set_password(user_id, body.password)
        await tokens.ainvalidate(user_id, PASSWORD_RESET)  # other links in the mailbox
        await sessions.arevoke_user(user_id)  # every session of the account ends
        return Response(status_code=204)

    return app
