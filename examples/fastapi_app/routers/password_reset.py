"""``/api/v1/auth/password-reset``: ask for a one-time token, then set a new password with it.

Both routes answer ``503`` while no sender is configured (see
``examples._shared.auth_extras.password_reset_sender``). The request answers ``202`` with
the same body whatever the email, and is limited per client address and per email by
backendkit's ``OneTimeTokens``; the confirmation is limited per client address.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from backendkit.adapters.fastapi import ClientKey, JsonBody, RateLimit, no_store
from backendkit.auth import InvalidOneTimeToken, OneTimeTokens
from backendkit.errors import NotFound
from backendkit.repository import utcnow
from backendkit.responses import Envelope, success
from examples._shared.auth_extras import (
    PASSWORD_RESET,
    RESET_REQUESTED,
    invalid_reset_token,
    require_reset,
    reset_email,
)
from examples._shared.config import CREDENTIAL_LIMIT_POLICY, PASSWORD_RESET_CONFIRM_LIMIT
from examples._shared.schemas import PasswordResetConfirmIn, PasswordResetIn
from examples.fastapi_app.deps import Svc

__all__ = ["router"]

router = APIRouter(prefix="/auth/password-reset", tags=["auth"])


async def configured_resets(svc: Svc) -> OneTimeTokens:
    """The reset tokens' service; ``503`` before the body is read when none is configured."""
    return require_reset(svc.resets)


#: ``tokens: Resets`` first in a route's parameters.
Resets = Annotated[OneTimeTokens, Depends(configured_resets)]


@router.post(
    "",
    status_code=202,
    response_model=Envelope[None],
    responses={429: {}, 503: {}},  # a limit is exhausted; no sender is configured
    dependencies=[Depends(no_store)],
)
async def request_reset(
    tokens: Resets,
    body: Annotated[PasswordResetIn, JsonBody(PasswordResetIn)],
    svc: Svc,
    ip: ClientKey,
) -> dict[str, Any]:
    """Send a password-reset token to the email's account, if it has one with a password.

    The answer is the same for an unknown email, a malformed one and an account that signs
    in with its identity provider (which gets no token): it tells nobody which exist.
    """
    to, email = reset_email(body.email)
    user_id = None
    if email is not None:
        async with svc.users() as users:
            user = await users.get_by_email(email)
        if user is not None and user.password_hash is not None:
            user_id = str(user.id)
    await tokens.aissue(PASSWORD_RESET, to, user_id=user_id, address=ip)
    return success(None, RESET_REQUESTED)


@router.post(
    "/confirm",
    status_code=204,
    response_class=Response,
    responses={400: {}, 429: {}, 503: {}},  # a refused token; the limit; no sender
    dependencies=[
        RateLimit(
            PASSWORD_RESET_CONFIRM_LIMIT,
            name="password-reset-confirm",
            failure_policy=CREDENTIAL_LIMIT_POLICY,
        ),
        Depends(no_store),
    ],
)
async def confirm_reset(
    tokens: Resets,
    body: Annotated[PasswordResetConfirmIn, JsonBody(PasswordResetConfirmIn)],
    svc: Svc,
) -> Response:
    """Set a new password with a token: it works once; every session of the account ends."""
    try:
        record = await tokens.aconsume(PASSWORD_RESET, body.token)
    except InvalidOneTimeToken:
        raise invalid_reset_token() from None
    hashed = await svc.hasher.ahash(body.password)
    user_id = int(record.user_id)  # issued above with a local id
    try:
        async with svc.users() as users:
            await users.update(user_id, {"password_hash": hashed, "password_changed_at": utcnow()})
    except NotFound:  # the account was deleted since: the token acts on nothing
        raise invalid_reset_token() from None
    # Other links still in the mailbox stop working; so do the account's sessions.
    await tokens.ainvalidate(record.user_id, PASSWORD_RESET)
    await svc.tokens.arevoke_user(record.user_id)
    await svc.forget_user(user_id)
    return Response(status_code=204)
