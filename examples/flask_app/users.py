"""Blueprint ``users`` (``/api/v1/users``): me, list, get (cached), update, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from backendkit.adapters.flask import (
    charge_limit,
    current_user,
    json_body,
    require_auth,
)
from backendkit.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from backendkit.fields import PositiveId
from backendkit.listing import cursor_params, page_params
from backendkit.repository import RESERVED_QUERY_KEYS, utcnow
from backendkit.responses import paginated, success
from backendkit.validation import ApiModel, validate
from backendkit.web import Principal
from examples._shared.auth_extras import acting_principal, no_password
from examples._shared.config import CREDENTIAL_LIMIT_POLICY, PASSWORD_CHANGE_LIMIT
from examples._shared.limits import password_change_key
from examples._shared.schemas import UserUpdate
from examples.flask_app.services import services, user_out

__all__ = ["bp"]

bp = Blueprint("users", __name__, url_prefix="/users")


class _UserPath(ApiModel):
    id: PositiveId


def _user_id(raw: str) -> int:
    # The route takes any text so that a bad id is a 400 VALIDATION_ERROR (as in the
    # FastAPI and Django examples), not werkzeug's 404 for an unmatched converter.
    return validate(_UserPath, {"id": raw}).id


def _caller() -> Principal:
    """The caller with the roles that authorize it (an API key's or a provider user's are
    the local user's current role)."""
    user = current_user()
    assert user is not None  # the view is behind require_auth
    return acting_principal(user)


@bp.get("/me")
@require_auth
def me() -> Any:
    """The caller's own account."""
    found = services().load_user(int(_caller().user_id))
    if found is None:
        raise NotFound("User not found")
    return success(found, "User retrieved successfully")


# --8<-- [start:list]
@bp.get("")
@require_auth
def list_users() -> Any:
    """Users, by page number (``page``/``perPage``) or by cursor (``cursor``/``perPage``)."""
    query = request.args
    # ``q`` is a free-text search: ``q=ann`` means ``q[search]=ann``.
    filters = {
        ("q[search]" if key == "q" else key): query.getlist(key)
        for key in query
        if key not in RESERVED_QUERY_KEYS
    }
    sort_values = query.getlist("sort")
    if len(sort_values) > 1:
        raise ValidationFailed("Invalid sort", details=[ErrorDetail("sort", "must be given once")])
    sort = sort_values[0] if sort_values else None
    with services().users() as users:
        if "cursor" in query:
            if "page" in query:
                raise ValidationFailed(
                    "Use either page or cursor",
                    details=[ErrorDetail("cursor", "cannot be combined with page")],
                )
            result: Any = users.list_cursor(cursor_params(query), filters=filters, sort=sort)
        else:
            result = users.list_page(page_params(query), filters=filters, sort=sort)
    return paginated(result.map(user_out))


# --8<-- [end:list]


@bp.get("/<user_id>")
@require_auth
def get_user(user_id: str) -> Any:
    """One user, served from the cache when it holds a fresh copy."""
    found = services().load_user(_user_id(user_id))
    if found is None:
        raise NotFound("User not found")
    return success(found, "User retrieved successfully")


def _authorize_update(user: Principal, user_id: int, body: UserUpdate) -> bool:
    """Check who may change what; returns whether the caller is the account's owner."""
    is_owner = user.user_id == str(user_id)
    is_admin = user.has_role("admin")
    if not (is_owner or is_admin):
        raise Forbidden("You can only update your own account")
    if body.role is not None and not is_admin:
        raise Forbidden("Only admins can change roles")
    if body.password is not None and is_owner and body.current_password is None:
        raise ValidationFailed(
            "Current password is required",
            details=[ErrorDetail("currentPassword", "is required to change the password")],
        )
    return is_owner


@bp.put("/<user_id>")
@require_auth
@json_body(UserUpdate)
def update_user(user_id: str, body: UserUpdate) -> Any:
    """Partial update by the account's owner or an admin."""
    svc = services()
    target = _user_id(user_id)
    is_owner = _authorize_update(_caller(), target, body)
    with svc.users() as users:
        current = users.get(target)
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"password", "current_password"}
    )
    if body.password is not None:
        if current.password_hash is None:  # signs in with its identity provider
            raise no_password()
        charge_limit(
            PASSWORD_CHANGE_LIMIT,
            bucket=password_change_key(str(target)),
            name="password-change",
            failure_policy=CREDENTIAL_LIMIT_POLICY,
        )
        if is_owner:
            assert body.current_password is not None  # checked by _authorize_update
            if not svc.hasher.verify(body.current_password, current.password_hash):
                raise ValidationFailed(
                    "Current password is incorrect",
                    details=[ErrorDetail("currentPassword", "is incorrect")],
                )
        changes["password_hash"] = svc.hasher.hash(body.password)
        changes["password_changed_at"] = utcnow()
    if "email" in changes and changes["email"] != current.email:
        with svc.users() as users:
            if users.get_by_email(changes["email"]) is not None:
                raise Conflict(
                    "Email is already registered",
                    details=[ErrorDetail("email", "is already registered")],
                )
    with svc.users() as users:
        updated = users.update(target, changes)
    svc.forget_user(target)
    if "password_hash" in changes or changes.get("role", current.role) != current.role:
        # New credentials or privileges: every session of the account must log in again.
        svc.tokens.revoke_user(str(target))
    return success(user_out(updated), "User updated successfully")


@bp.delete("/<user_id>")
@require_auth
def delete_user(user_id: str) -> Response:
    """Delete an account (admins only); its sessions end at once."""
    if not _caller().has_role("admin"):
        raise Forbidden()
    svc = services()
    target = _user_id(user_id)
    with svc.users() as users:
        users.delete(target)
    svc.forget_user(target)
    svc.tokens.revoke_user(str(target))
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response
