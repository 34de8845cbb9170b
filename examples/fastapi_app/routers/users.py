"""``/api/v1/users``: me, list (offset or cursor pages), get (cached), update, delete."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from backendkit.adapters.fastapi import CurrentUser, JsonBody, charge_limit
from backendkit.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from backendkit.fields import PositiveId
from backendkit.listing import MAX_CURSOR_LENGTH, cursor_params, page_params
from backendkit.repository import RESERVED_QUERY_KEYS, utcnow
from backendkit.responses import CursorPageEnvelope, Envelope, PageEnvelope, paginated, success
from backendkit.web import Principal
from examples._shared.auth_extras import no_password
from examples._shared.config import CREDENTIAL_LIMIT_POLICY, PASSWORD_CHANGE_LIMIT
from examples._shared.limits import password_change_key
from examples._shared.schemas import UserOut, UserUpdate
from examples.fastapi_app.deps import AdminOnly, Caller, Svc
from examples.fastapi_app.services import user_out

__all__ = ["router"]

router = APIRouter(prefix="/users", tags=["users"])

UserId = Annotated[PositiveId, Path(alias="id", description="The user's id.")]


@router.get("/me", response_model=Envelope[UserOut], responses={404: {}})
async def me(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The caller's own account."""
    found = await svc.load_user(int(user.user_id))
    if found is None:
        raise NotFound("User not found")
    return success(found, "User retrieved successfully")


# --8<-- [start:list]
@router.get("", response_model=PageEnvelope[UserOut] | CursorPageEnvelope[UserOut])
async def list_users(
    request: Request,
    user: CurrentUser,
    svc: Svc,
    # Declared for the OpenAPI document; the core reads the whole query string itself, so
    # all three example apps accept and refuse exactly the same input.
    page: Annotated[int | None, Query(ge=1, description="Page number (offset paging).")] = None,
    per_page: Annotated[int | None, Query(alias="perPage", ge=1, le=100)] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="Cursor paging: empty for page one."),
    ] = None,
    sort: Annotated[str | None, Query(max_length=200, examples=["-createdAt,name"])] = None,
    email: Annotated[str | None, Query(max_length=254)] = None,
    role: Annotated[str | None, Query(max_length=100)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Name or email contains.")] = None,
) -> dict[str, Any]:
    """Users, by page number (``page``/``perPage``) or by cursor (``cursor``/``perPage``)."""
    query = request.query_params
    # ``q`` is a free-text search: ``q=ann`` means ``q[search]=ann``.
    filters = {
        ("q[search]" if key == "q" else key): query.getlist(key)
        for key in query
        if key not in RESERVED_QUERY_KEYS
    }
    sort_values = query.getlist("sort")
    if len(sort_values) > 1:
        raise ValidationFailed("Invalid sort", details=[ErrorDetail("sort", "must be given once")])
    chosen_sort = sort_values[0] if sort_values else None
    async with svc.users() as users:
        if "cursor" in query:
            if "page" in query:
                raise ValidationFailed(
                    "Use either page or cursor",
                    details=[ErrorDetail("cursor", "cannot be combined with page")],
                )
            result: Any = await users.list_cursor(
                cursor_params(query), filters=filters, sort=chosen_sort
            )
        else:
            result = await users.list_page(page_params(query), filters=filters, sort=chosen_sort)
    return paginated(result.map(user_out))


# --8<-- [end:list]


# --8<-- [start:get]
@router.get("/{id}", response_model=Envelope[UserOut])
async def get_user(user_id: UserId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """One user, served from the cache when it holds a fresh copy."""
    found = await svc.load_user(user_id)
    if found is None:
        raise NotFound("User not found")
    return success(found, "User retrieved successfully")


# --8<-- [end:get]


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


# --8<-- [start:update]
@router.put(
    "/{id}",
    response_model=Envelope[UserOut],
    # Raised by the route itself: not the owner, a taken email, password changes.
    responses={403: {}, 409: {}, 429: {}},
)
async def update_user(
    request: Request,
    user_id: UserId,
    user: Caller,  # before the body: an anonymous caller gets 401, not a 400
    body: Annotated[UserUpdate, JsonBody(UserUpdate)],
    svc: Svc,
) -> dict[str, Any]:
    """Partial update by the account's owner or an admin."""
    is_owner = _authorize_update(user, user_id, body)
    async with svc.users() as users:
        current = await users.get(user_id)
    changes: dict[str, Any] = body.model_dump(
        exclude_unset=True, exclude={"password", "current_password"}
    )
    if body.password is not None:
        if current.password_hash is None:  # signs in with its identity provider
            raise no_password()
        await charge_limit(
            request,
            PASSWORD_CHANGE_LIMIT,
            bucket=password_change_key(str(user_id)),
            name="password-change",
            failure_policy=CREDENTIAL_LIMIT_POLICY,
        )
        if is_owner:
            assert body.current_password is not None  # checked by _authorize_update
            if not await svc.hasher.averify(body.current_password, current.password_hash):
                raise ValidationFailed(
                    "Current password is incorrect",
                    details=[ErrorDetail("currentPassword", "is incorrect")],
                )
        changes["password_hash"] = await svc.hasher.ahash(body.password)
        changes["password_changed_at"] = utcnow()
    if "email" in changes and changes["email"] != current.email:
        async with svc.users() as users:
            if await users.get_by_email(changes["email"]) is not None:
                raise Conflict(
                    "Email is already registered",
                    details=[ErrorDetail("email", "is already registered")],
                )
    async with svc.users() as users:
        updated = await users.update(user_id, changes)
    await svc.forget_user(user_id)
    if "password_hash" in changes or changes.get("role", current.role) != current.role:
        # New credentials or privileges: every session of the account must log in again.
        await svc.tokens.arevoke_user(str(user_id))
    return success(user_out(updated), "User updated successfully")


# --8<-- [end:update]


@router.delete(
    "/{id}", status_code=204, response_class=Response, responses={403: {}}, dependencies=[AdminOnly]
)
async def delete_user(user_id: UserId, svc: Svc) -> Response:
    """Delete an account (admins only); its sessions end at once."""
    async with svc.users() as users:
        await users.delete(user_id)
    await svc.forget_user(user_id)
    await svc.tokens.arevoke_user(str(user_id))
    return Response(status_code=204)
