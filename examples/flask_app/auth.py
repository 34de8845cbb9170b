"""Blueprint ``auth`` (``/api/v1/auth``): register, login, refresh, logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from backendkit.adapters.flask import (
    charge_limit,
    client_key,
    current_user,
    json_body,
    no_store,
    rate_limit,
    require_auth,
)
from backendkit.errors import Conflict, ErrorDetail, Unauthenticated
from backendkit.fields import normalize_email
from backendkit.logging import security_event
from backendkit.responses import success
from examples._shared.auth_extras import session_claims
from examples._shared.config import (
    CREDENTIAL_LIMIT_POLICY,
    LOGIN_LIMIT_PER_ACCOUNT,
    LOGIN_LIMIT_PER_IP,
    REFRESH_LIMIT,
    REGISTER_LIMIT,
)
from examples._shared.limits import account_key
from examples._shared.schemas import LoginIn, RefreshIn, RegisterIn, TokenOut
from examples.flask_app.services import services, user_out

__all__ = ["bp"]

bp = Blueprint("auth", __name__, url_prefix="/auth")

INVALID_LOGIN = "Invalid email or password"


def _tokens_out(pair: Any) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


@bp.post("/register")
@rate_limit(REGISTER_LIMIT, name="register", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(RegisterIn)
def register(body: RegisterIn) -> Any:
    """Create an account (role ``user``)."""
    svc = services()
    with svc.users() as users:
        taken = users.get_by_email(body.email) is not None
    if taken:
        raise Conflict(
            "Email is already registered", details=[ErrorDetail("email", "is already registered")]
        )
    hashed = svc.hasher.hash(body.password)  # outside any transaction
    with svc.users() as users:
        user = users.create(
            {"email": body.email, "name": body.name, "role": "user", "password_hash": hashed}
        )
    return success(user_out(user), "User registered successfully"), 201


# --8<-- [start:login]
@bp.post("/login")
@no_store
@rate_limit(LOGIN_LIMIT_PER_IP, name="login", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(LoginIn)
def login(body: LoginIn) -> Any:
    """Exchange email and password for an access and a refresh token."""
    svc = services()
    try:
        email: str | None = normalize_email(body.email)
    except ValueError:
        email = None  # cannot exist: answered like any unknown email
    account = account_key(client_key(), email or body.email.strip().lower())
    # Keyed by the validated email, so charged here: @rate_limit keys before the body is read.
    charge_limit(
        LOGIN_LIMIT_PER_ACCOUNT,
        bucket=account,
        name="login-account",
        failure_policy=CREDENTIAL_LIMIT_POLICY,
    )
    # Before the password is checked: while the token store is down, a right password
    # must get the same 503 as a wrong one, not tell itself apart from a 401.
    svc.tokens.ensure_available()
    user = None
    if email is not None:
        with svc.users() as users:
            user = users.get_by_email(email)
    if user is None or user.password_hash is None:
        # Same bcrypt work as a wrong password: response time does not reveal the email,
        # nor that the account signs in with its identity provider (it has no password).
        svc.hasher.dummy_verify(body.password)
        reason = "unknown_email" if user is None else "no_password"
        security_event("login_failed", reason=reason)
        raise Unauthenticated(INVALID_LOGIN)
    result = svc.hasher.verify_and_update(body.password, user.password_hash)
    if not result.valid:
        security_event("login_failed", reason="wrong_password", user_id=str(user.id))
        raise Unauthenticated(INVALID_LOGIN)
    if result.new_hash is not None:  # an outdated cost or scheme: upgrade it now
        with svc.users() as users:
            users.update(user.id, {"password_hash": result.new_hash})
    pair = svc.tokens.issue_pair(str(user.id), claims={"roles": [user.role]})
    return success(_tokens_out(pair), "Login successful")


# --8<-- [end:login]


@bp.post("/refresh")
@no_store
@rate_limit(REFRESH_LIMIT, name="refresh", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(RefreshIn)
def refresh(body: RefreshIn) -> Any:
    """Rotate a refresh token: a new pair; presenting a used one again ends the session."""
    pair = services().tokens.refresh(body.refresh_token)
    return success(_tokens_out(pair), "Token refreshed successfully")


@bp.post("/logout")
@require_auth
def logout() -> Response:
    """End the caller's session: its refresh token and this access token stop working.

    An API key or an identity provider's token has no session here: ``400``.
    """
    user = current_user()
    assert user is not None  # require_auth
    tokens, claims = services().tokens, session_claims(user)
    if claims.sid is not None:
        tokens.revoke_session(claims.sub, claims.sid)
    if claims.jti is not None:
        tokens.revoke_jti(claims.sub, claims.jti, expires_at=claims.exp)
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response
