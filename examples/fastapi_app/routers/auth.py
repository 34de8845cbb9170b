"""``/api/v1/auth``: register, login, refresh, logout."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from backendkit.adapters.fastapi import (
    ClientKey,
    CurrentUser,
    JsonBody,
    RateLimit,
    charge_limit,
    no_store,
)
from backendkit.errors import Conflict, ErrorDetail, Unauthenticated
from backendkit.fields import normalize_email
from backendkit.logging import security_event
from backendkit.responses import Envelope, success
from examples._shared.auth_extras import session_claims
from examples._shared.config import (
    CREDENTIAL_LIMIT_POLICY,
    LOGIN_LIMIT_PER_ACCOUNT,
    LOGIN_LIMIT_PER_IP,
    REFRESH_LIMIT,
    REGISTER_LIMIT,
)
from examples._shared.limits import account_key
from examples._shared.schemas import LoginIn, RefreshIn, RegisterIn, TokenOut, UserOut
from examples.fastapi_app.deps import Svc
from examples.fastapi_app.services import user_out

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"])

INVALID_LOGIN = "Invalid email or password"


def _tokens_out(pair: Any) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


# --8<-- [start:register]
@router.post(
    "/register",
    status_code=201,
    response_model=Envelope[UserOut],
    responses={409: {}},  # what the route raises itself (the email is taken)
    dependencies=[
        RateLimit(REGISTER_LIMIT, name="register", failure_policy=CREDENTIAL_LIMIT_POLICY)
    ],
)
async def register(body: Annotated[RegisterIn, JsonBody(RegisterIn)], svc: Svc) -> dict[str, Any]:
    """Create an account (role ``user``)."""
    async with svc.users() as users:
        taken = await users.get_by_email(body.email) is not None
    if taken:
        raise Conflict(
            "Email is already registered", details=[ErrorDetail("email", "is already registered")]
        )
    # bcrypt runs in a thread pool, outside any transaction.
    hashed = await svc.hasher.ahash(body.password)
    async with svc.users() as users:
        user = await users.create(
            {"email": body.email, "name": body.name, "role": "user", "password_hash": hashed}
        )
    return success(user_out(user), "User registered successfully")


# --8<-- [end:register]


# --8<-- [start:login]
@router.post(
    "/login",
    response_model=Envelope[TokenOut],
    responses={401: {}, 429: {}, 503: {}},  # wrong credentials, per account, store down
    dependencies=[
        RateLimit(LOGIN_LIMIT_PER_IP, name="login", failure_policy=CREDENTIAL_LIMIT_POLICY),
        Depends(no_store),
    ],
)
async def login(
    request: Request, body: Annotated[LoginIn, JsonBody(LoginIn)], svc: Svc, ip: ClientKey
) -> dict[str, Any]:
    """Exchange email and password for an access and a refresh token."""
    try:
        email: str | None = normalize_email(body.email)
    except ValueError:
        email = None  # cannot exist: answered like any unknown email
    account = account_key(ip, email or body.email.strip().lower())
    # Keyed by the validated email, so charged here: RateLimit keys before the body is read.
    await charge_limit(
        request,
        LOGIN_LIMIT_PER_ACCOUNT,
        bucket=account,
        name="login-account",
        failure_policy=CREDENTIAL_LIMIT_POLICY,
    )
    # Before the password is checked: while the token store is down, a right password
    # must get the same 503 as a wrong one, not tell itself apart from a 401.
    await svc.tokens.aensure_available()
    user = None
    if email is not None:
        async with svc.users() as users:
            user = await users.get_by_email(email)
    if user is None or user.password_hash is None:
        # Same bcrypt work as a wrong password: response time does not reveal the email,
        # nor that the account signs in with its identity provider (it has no password).
        await svc.hasher.adummy_verify(body.password)
        reason = "unknown_email" if user is None else "no_password"
        security_event("login_failed", reason=reason)
        raise Unauthenticated(INVALID_LOGIN)
    result = await svc.hasher.averify_and_update(body.password, user.password_hash)
    if not result.valid:
        security_event("login_failed", reason="wrong_password", user_id=str(user.id))
        raise Unauthenticated(INVALID_LOGIN)
    if result.new_hash is not None:  # an outdated cost or scheme: upgrade it now
        async with svc.users() as users:
            await users.update(user.id, {"password_hash": result.new_hash})
    pair = await svc.tokens.aissue_pair(str(user.id), claims={"roles": [user.role]})
    return success(_tokens_out(pair), "Login successful")


# --8<-- [end:login]


@router.post(
    "/refresh",
    response_model=Envelope[TokenOut],
    responses={401: {}, 503: {}},  # a refused or reused token; the token store down
    dependencies=[
        RateLimit(REFRESH_LIMIT, name="refresh", failure_policy=CREDENTIAL_LIMIT_POLICY),
        Depends(no_store),
    ],
)
async def refresh(body: Annotated[RefreshIn, JsonBody(RefreshIn)], svc: Svc) -> dict[str, Any]:
    """Rotate a refresh token: a new pair; presenting a used one again ends the session."""
    pair = await svc.tokens.arefresh(body.refresh_token)
    return success(_tokens_out(pair), "Token refreshed successfully")


@router.post("/logout", status_code=204, response_class=Response, responses={400: {}})
async def logout(user: CurrentUser, svc: Svc) -> Response:
    """End the caller's session: its refresh token and this access token stop working.

    An API key or an identity provider's token has no session here: ``400``.
    """
    claims = session_claims(user)
    if claims.sid is not None:
        await svc.tokens.arevoke_session(claims.sub, claims.sid)
    if claims.jti is not None:
        await svc.tokens.arevoke_jti(claims.sub, claims.jti, expires_at=claims.exp)
    return Response(status_code=204)
