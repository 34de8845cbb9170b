"""``POST /api/v1/auth/token``: the OAuth2 password grant, so Swagger UI's *Authorize* signs in.

Swagger posts a form (``grant_type=password&username=…&password=…``) and reads a top-level
``access_token``, so this route answers as RFC 6749 says, not in the envelope: section 5.1
on success, section 5.2 (``{"error": "invalid_grant"}``, 400) when the form or the
credentials are wrong. Throttling (429), a body over the cap (413) and an outage (503)
keep the envelope. It is the JSON login under another dress: the same checks, the same
rate-limit counters (rules ``login`` and ``login-account``), the same token pair.
"""

from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backendkit.adapters.fastapi import ClientKey, RateLimit, current_kit, no_store
from backendkit.errors import PayloadTooLarge, Unauthenticated, ValidationFailed
from backendkit.validation import validate
from examples._shared.config import CREDENTIAL_LIMIT_POLICY, LOGIN_LIMIT_PER_IP
from examples._shared.schemas import LoginIn
from examples.fastapi_app.deps import Svc
from examples.fastapi_app.routers.auth import login

__all__ = ["TOKEN_URL", "router"]

router = APIRouter(prefix="/auth", tags=["auth"])

#: Where Swagger's password flow posts (``install(app, kit, token_url=TOKEN_URL)``).
TOKEN_URL = "/api/v1/auth/token"

_FORM = "application/x-www-form-urlencoded"
_FIELDS = ("grant_type", "username", "password")
# RFC 6749 section 5.1: token answers are never cached.
_NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthToken(BaseModel):
    """RFC 6749 section 5.1: a successful token answer."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    refresh_token: str


class OAuthError(BaseModel):
    """RFC 6749 section 5.2: an error answer."""

    error: Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]
    error_description: str


class _Refused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(error)
        self.answer = OAuthError.model_validate({"error": error, "error_description": description})


def _form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The password grant's fields, or ``_Refused`` as section 5.2 says."""
    if (content_type or "").split(";")[0].strip().lower() != _FORM:
        raise _Refused("invalid_request", f"the body must be {_FORM}")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _Refused("invalid_request", "the form cannot be read") from exc
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise _Refused("invalid_request", "a parameter is repeated")
    form = dict(pairs)
    missing = [name for name in _FIELDS if not form.get(name)]
    if missing:
        raise _Refused("invalid_request", f"missing {', '.join(missing)}")
    if form["grant_type"] != "password":
        raise _Refused("unsupported_grant_type", "only the password grant is supported")
    return form


@router.post(
    "/token",
    response_model=OAuthToken,
    responses={
        400: {"model": OAuthError, "description": "RFC 6749 section 5.2 error (not an envelope)."},
        413: {"description": "The body is over the size cap."},
        429: {},
        503: {},
    },
    dependencies=[
        RateLimit(LOGIN_LIMIT_PER_IP, name="login", failure_policy=CREDENTIAL_LIMIT_POLICY),
        Depends(no_store),
    ],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                _FORM: {
                    "schema": {
                        "type": "object",
                        "required": list(_FIELDS),
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["password"]},
                            "username": {"type": "string", "description": "The email."},
                            "password": {"type": "string", "format": "password"},
                        },
                    }
                }
            },
        }
    },
)
async def token(request: Request, svc: Svc, ip: ClientKey) -> Any:
    """Sign in with a form (OAuth2 password grant): a bearer access token, RFC 6749 style."""
    body = await request.body()
    if len(body) > current_kit(request).max_body_bytes:
        raise PayloadTooLarge()
    try:
        form = _form(body, request.headers.get("content-type"))
        try:
            credentials = validate(
                LoginIn, {"email": form["username"], "password": form["password"]}
            )
        except ValidationFailed as exc:
            raise _Refused("invalid_request", "the username or password is malformed") from exc
        try:
            answer: dict[str, Any] = await login(request, credentials, svc, ip)
        except Unauthenticated as exc:
            raise _Refused("invalid_grant", "invalid email or password") from exc
    except _Refused as refused:
        return JSONResponse(refused.answer.model_dump(), status_code=400, headers=_NO_CACHE)
    pair = answer["data"]
    issued = OAuthToken(
        access_token=pair.access_token,
        token_type="bearer",
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
    return JSONResponse(issued.model_dump(), headers=_NO_CACHE)
