"""The API views: function views for the auth endpoints, class-based views for users.

Every view is wrapped in backendkit's Django decorators; errors are raised as backendkit
``AppError``s and rendered into the envelope by ``BackendKitMiddleware``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_http_methods

from backendkit.adapters.django import (
    charge_limit,
    client_key,
    get_principal,
    health_view,
    json_body,
    no_store,
    page_response,
    paginate_queryset,
    paginate_queryset_cursor,
    rate_limit,
    read_json,
    require_auth,
    require_roles,
    success_response,
)
from backendkit.errors import (
    Conflict,
    ErrorDetail,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from backendkit.fields import PositiveId, normalize_email
from backendkit.listing import cursor_params, page_params
from backendkit.logging import security_event
from backendkit.validation import ApiModel, validate
from backendkit.web import Principal
from examples._shared.config import (
    CREDENTIAL_LIMIT_POLICY,
    LOGIN_LIMIT_PER_ACCOUNT,
    LOGIN_LIMIT_PER_IP,
    PASSWORD_CHANGE_LIMIT,
    REFRESH_LIMIT,
    REGISTER_LIMIT,
)
from examples._shared.limits import account_key, password_change_key
from examples._shared.schemas import LoginIn, RefreshIn, RegisterIn, TokenOut, UserUpdate
from examples.django_app.users import filters
from examples.django_app.users.models import User
from examples.django_app.users.services import services, user_out

INVALID_LOGIN = "Invalid email or password"

#: ``GET /health``: the database and (when configured) Redis, 200 or 503. The middleware
#: charges the default budget (``BACKENDKIT_RATE_LIMIT_DEFAULT``) before every other view.
health = health_view(database="default", redis=services().redis)


def _tokens(pair: Any) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


class _UserPath(ApiModel):
    id: PositiveId


def _user_id(raw: str) -> int:
    # The URL takes any text so that a bad id is a 400 VALIDATION_ERROR, as in the other
    # examples, rather than a route miss.
    return validate(_UserPath, {"id": raw}).id


# -- auth -----------------------------------------------------------------------------------


@require_http_methods(["POST"])
@rate_limit(REGISTER_LIMIT, name="register", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(RegisterIn)
def register(request: HttpRequest, body: RegisterIn) -> HttpResponse:
    """Create an account (role ``user``)."""
    svc = services()
    if User.objects.filter(email=body.email).exists():
        raise Conflict(
            "Email is already registered", details=[ErrorDetail("email", "is already registered")]
        )
    hashed = svc.hasher.hash(body.password)  # outside any transaction
    try:
        with transaction.atomic():
            user = User.objects.create(
                email=body.email, name=body.name, role="user", password_hash=hashed
            )
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict(
            "Email is already registered", details=[ErrorDetail("email", "is already registered")]
        ) from exc
    return success_response(user_out(user), message="User registered successfully", status=201)


# --8<-- [start:login]
@require_http_methods(["POST"])
@no_store
@rate_limit(LOGIN_LIMIT_PER_IP, name="login", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(LoginIn)
def login(request: HttpRequest, body: LoginIn) -> HttpResponse:
    """Exchange email and password for an access and a refresh token."""
    svc = services()
    try:
        email: str | None = normalize_email(body.email)
    except ValueError:
        email = None  # cannot exist: answered like any unknown email
    account = account_key(client_key(request), email or body.email.strip().lower())
    charge_limit(
        request,
        LOGIN_LIMIT_PER_ACCOUNT,
        bucket=account,
        name="login-account",
        failure_policy=CREDENTIAL_LIMIT_POLICY,
    )
    # Before the password is checked: while the token store is down, a right password
    # must get the same 503 as a wrong one, not tell itself apart from a 401.
    svc.tokens.ensure_available()
    user = User.objects.filter(email=email).first() if email is not None else None
    if user is None:
        # Same bcrypt work as a wrong password: response time does not reveal the email.
        svc.hasher.dummy_verify(body.password)
        security_event("login_failed", reason="unknown_email")
        raise Unauthenticated(INVALID_LOGIN)
    result = svc.hasher.verify_and_update(body.password, user.password_hash)
    if not result.valid:
        security_event("login_failed", reason="wrong_password", user_id=str(user.pk))
        raise Unauthenticated(INVALID_LOGIN)
    if result.new_hash is not None:  # an outdated cost or scheme: upgrade it now
        User.objects.filter(pk=user.pk).update(password_hash=result.new_hash)
    pair = svc.tokens.issue_pair(str(user.pk), claims={"roles": [user.role]})
    return success_response(_tokens(pair), message="Login successful")


# --8<-- [end:login]


@require_http_methods(["POST"])
@no_store
@rate_limit(REFRESH_LIMIT, name="refresh", failure_policy=CREDENTIAL_LIMIT_POLICY)
@json_body(RefreshIn)
def refresh(request: HttpRequest, body: RefreshIn) -> HttpResponse:
    """Rotate a refresh token: a new pair; presenting a used one again ends the session."""
    pair = services().tokens.refresh(body.refresh_token)
    return success_response(_tokens(pair), message="Token refreshed successfully")


@require_http_methods(["POST"])
@require_auth
def logout(request: HttpRequest) -> HttpResponse:
    """End the caller's session: its refresh token and this access token stop working."""
    claims = get_principal(request).claims
    tokens = services().tokens
    if claims.sid is not None:
        tokens.revoke_session(claims.sub, claims.sid)
    if claims.jti is not None:
        tokens.revoke_jti(claims.sub, claims.jti, expires_at=claims.exp)
    return success_response(status=204)


# -- users ----------------------------------------------------------------------------------


@require_http_methods(["GET"])
@require_auth
def me(request: HttpRequest) -> HttpResponse:
    """The caller's own account."""
    found = services().load_user(int(get_principal(request).user_id))
    if found is None:
        raise NotFound("User not found")
    return success_response(found, message="User retrieved successfully")


# --8<-- [start:list]
@method_decorator([require_http_methods(["GET"]), require_auth], name="dispatch")
class UserList(View):
    """``GET /api/v1/users``: by page number (``page``) or by cursor (``cursor``)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """One page of users."""
        query = {key: request.GET.getlist(key) for key in request.GET}
        sort_values = query.get("sort", [])
        if len(sort_values) > 1:
            raise ValidationFailed(
                "Invalid sort", details=[ErrorDetail("sort", "must be given once")]
            )
        sorting: dict[str, Any] = {
            "sort": sort_values[0] if sort_values else None,
            "sort_fields": filters.SORT_FIELDS,
            "default_sort": filters.DEFAULT_SORT,
        }
        users, conditions = filters.filter_users(User.objects.all(), query)
        if "cursor" in query:
            if "page" in query:
                raise ValidationFailed(
                    "Use either page or cursor",
                    details=[ErrorDetail("cursor", "cannot be combined with page")],
                )
            page: Any = paginate_queryset_cursor(
                users,
                cursor_params(request.GET),
                codec=services().cursors,
                filters=conditions,  # a cursor only works for the filters it was made for
                **sorting,
            )
        else:
            page = paginate_queryset(users, page_params(request.GET), **sorting)
        return page_response(page.map(user_out))


# --8<-- [end:list]


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


@method_decorator([require_http_methods(["GET", "PUT", "DELETE"]), require_auth], name="dispatch")
class UserDetail(View):
    """``/api/v1/users/<id>``: read (cached), update (owner or admin), delete (admin)."""

    def get(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """One user, served from the cache when it holds a fresh copy."""
        found = services().load_user(_user_id(user_id))
        if found is None:
            raise NotFound("User not found")
        return success_response(found, message="User retrieved successfully")

    def put(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """Partial update by the account's owner or an admin."""
        svc = services()
        body = read_json(request, UserUpdate)
        target = _user_id(user_id)
        is_owner = _authorize_update(get_principal(request), target, body)
        current = User.objects.filter(pk=target).first()
        if current is None:
            raise NotFound("User not found")
        changes: dict[str, Any] = body.model_dump(
            exclude_unset=True, exclude={"password", "current_password"}
        )
        if body.password is not None:
            charge_limit(
                request,
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
        email = changes.get("email")
        if email not in (None, current.email) and User.objects.filter(email=email).exists():
            raise Conflict(
                "Email is already registered",
                details=[ErrorDetail("email", "is already registered")],
            )
        old_role = current.role
        for name, value in changes.items():
            setattr(current, name, value)
        with transaction.atomic():
            current.save()
        svc.forget_user(target)
        if "password_hash" in changes or current.role != old_role:
            # New credentials or privileges: every session of the account must log in again.
            svc.tokens.revoke_user(str(target))
        return success_response(user_out(current), message="User updated successfully")

    @method_decorator(require_roles("admin"))
    def delete(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """Delete an account (admins only); its sessions end at once."""
        svc = services()
        target = _user_id(user_id)
        deleted, _ = User.objects.filter(pk=target).delete()
        if not deleted:
            raise NotFound("User not found")
        svc.forget_user(target)
        svc.tokens.revoke_user(str(target))
        return success_response(status=204)
