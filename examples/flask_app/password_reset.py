"""Blueprint ``password_reset`` (``/api/v1/auth/password-reset``): ask for a one-time token,
then set a new password with it.

Both routes answer ``503`` while no sender is configured (see
``examples._shared.auth_extras.password_reset_sender``), before the body is read. The
request answers ``202`` with the same body whatever the email, and is limited per client
address and per email by backendkit's ``OneTimeTokens``; the confirmation is limited per
client address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response

from backendkit.adapters.flask import client_key, json_body, no_store, rate_limit
from backendkit.auth import InvalidOneTimeToken
from backendkit.errors import NotFound
from backendkit.repository import utcnow
from backendkit.responses import success
from examples._shared.auth_extras import (
    PASSWORD_RESET,
    RESET_REQUESTED,
    invalid_reset_token,
    require_reset,
    reset_email,
)
from examples._shared.config import CREDENTIAL_LIMIT_POLICY, PASSWORD_RESET_CONFIRM_LIMIT
from examples._shared.schemas import PasswordResetConfirmIn, PasswordResetIn
from examples.flask_app.services import services

__all__ = ["bp"]

bp = Blueprint("password_reset", __name__, url_prefix="/auth/password-reset")

F = TypeVar("F", bound=Callable[..., Any])


def _configured(view: F) -> F:
    """``503`` before the body is read while no sender is configured."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_reset(services().resets)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@bp.post("")
@no_store
@_configured
@json_body(PasswordResetIn)
def request_reset(body: PasswordResetIn) -> Any:
    """Send a password-reset token to the email's account, if it has one with a password.

    The answer is the same for an unknown email, a malformed one and an account that signs
    in with its identity provider (which gets no token): it tells nobody which exist.
    """
    svc = services()
    to, email = reset_email(body.email)
    user_id = None
    if email is not None:
        with svc.users() as users:
            user = users.get_by_email(email)
        if user is not None and user.password_hash is not None:
            user_id = str(user.id)
    require_reset(svc.resets).issue(PASSWORD_RESET, to, user_id=user_id, address=client_key())
    return success(None, RESET_REQUESTED), 202


@bp.post("/confirm")
@no_store
@rate_limit(
    PASSWORD_RESET_CONFIRM_LIMIT,
    name="password-reset-confirm",
    failure_policy=CREDENTIAL_LIMIT_POLICY,
)
@_configured
@json_body(PasswordResetConfirmIn)
def confirm_reset(body: PasswordResetConfirmIn) -> Response:
    """Set a new password with a token: it works once; every session of the account ends."""
    svc = services()
    tokens = require_reset(svc.resets)
    try:
        record = tokens.consume(PASSWORD_RESET, body.token)
    except InvalidOneTimeToken:
        raise invalid_reset_token() from None
    hashed = svc.hasher.hash(body.password)
    user_id = int(record.user_id)  # issued above with a local id
    try:
        with svc.users() as users:
            users.update(user_id, {"password_hash": hashed, "password_changed_at": utcnow()})
    except NotFound:  # the account was deleted since: the token acts on nothing
        raise invalid_reset_token() from None
    # Other links still in the mailbox stop working; so do the account's sessions.
    tokens.invalidate(record.user_id, PASSWORD_RESET)
    svc.tokens.revoke_user(record.user_id)
    svc.forget_user(user_id)
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response
