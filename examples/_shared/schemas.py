"""Request and response bodies: camelCase on the wire through backendkit's ``ApiModel``."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from backendkit.fields import Email, Password, PasswordPolicy
from backendkit.validation import ApiModel

__all__ = [
    "ApiKeyOut",
    "LoginIn",
    "NewApiKeyOut",
    "PasswordResetConfirmIn",
    "PasswordResetIn",
    "RefreshIn",
    "RegisterIn",
    "Role",
    "TokenOut",
    "UserOut",
    "UserUpdate",
]

#: What a user may be; only admins may hand out ``admin``.
Role = Literal["user", "admin"]
#: A display name: trimmed, 1 to 100 characters.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
#: A password as typed at login: any length bcrypt can check, masked in logs and reprs.
LoginPassword = Annotated[str, PasswordPolicy(min_bytes=1, max_bytes=1024)]


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; every value the app writes is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


class RegisterIn(ApiModel):
    """``POST /api/v1/auth/register``."""

    email: Email
    password: Password
    name: Name


class LoginIn(ApiModel):
    """``POST /api/v1/auth/login``: any email text (a malformed one is just a wrong login)."""

    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: LoginPassword


class RefreshIn(ApiModel):
    """``POST /api/v1/auth/refresh``."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class PasswordResetIn(ApiModel):
    """``POST /api/v1/auth/password-reset``: any email text (the answer is the same)."""

    email: Annotated[str, Field(min_length=1, max_length=320)]


class PasswordResetConfirmIn(ApiModel):
    """``POST /api/v1/auth/password-reset/confirm``: the token sent and the new password.

    Any string is a token here: a malformed one is refused like a used one (``400`` on
    ``token``), not by the body's validation.
    """

    token: str
    password: Password


class UserUpdate(ApiModel):
    """``PUT /api/v1/users/{id}``: a partial update; only the fields sent change.

    ``password`` needs ``currentPassword`` when users change their own; ``role`` is for
    admins only. ``null`` is refused: leave a field out to keep it.
    """

    name: Name | None = None
    email: Email | None = None
    role: Role | None = None
    password: Password | None = None
    current_password: LoginPassword | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class UserOut(ApiModel):
    """A user as the API shows it (never the password hash)."""

    id: int
    email: str
    name: str
    role: Role
    created_at: UtcDatetime
    updated_at: UtcDatetime


class TokenOut(ApiModel):
    """The token pair a login or refresh returns."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class ApiKeyOut(ApiModel):
    """An API key as its owner lists it (backendkit's ``api_key_body``): never its secret.
    Times are ISO 8601 in UTC."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    last_used_at: str | None


class NewApiKeyOut(ApiKeyOut):
    """The answer to a key's creation (``new_api_key_body``): the only time ``key``, the
    full text to send as ``Authorization: ApiKey <key>`` or ``X-API-Key``, is shown."""

    key: str
