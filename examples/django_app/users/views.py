"""The API views: function views for the auth endpoints, class-based views for users.

Callers sign in with this app's tokens, an identity provider's access token
(``BACKENDKIT_OIDC_ISSUER``) or an API key; routes authorize with ``_caller``, whose roles
are the local account's current role for the latter two.

Every view is wrapped in backendkit's Django decorators; errors are raised as backendkit
``AppError``s and rendered into the envelope by ``BackendKitMiddleware``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
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
    success_response,
)
from backendkit.auth import PASSWORD_RESET, ApiKeyRequest, InvalidOneTimeToken, new_api_key_body
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
from backendkit.web import Principal, check_roles
from examples._shared.auth_extras import (
    RESET_REQUESTED,
    acting_principal,
    invalid_reset_token,
    keys_newest_first,
    no_password,
    require_reset,
    reset_email,
    session_claims,
)
from examples._shared.config import (
    CREDENTIAL_LIMIT_POLICY,
    LOGIN_LIMIT_PER_ACCOUNT,
    LOGIN_LIMIT_PER_IP,
    PASSWORD_CHANGE_LIMIT,
    PASSWORD_RESET_CONFIRM_LIMIT,
    REFRESH_LIMIT,
    REGISTER_LIMIT,
)
from examples._shared.limits import account_key, password_change_key
from examples._shared.schemas import (
    LoginIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserUpdate,
)
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


def _caller(request: HttpRequest) -> Principal:
    """The authenticated caller as routes authorize it: for an API key or a provider's
    token, with the local account's current role (a provider's roles grant nothing)."""
    return acting_principal(get_principal(request))


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
    if user is None or user.password_hash is None:
        # Same bcrypt work as a wrong password: response time does not reveal the email,
        # nor that the account signs in with its identity provider and has no password.
        svc.hasher.dummy_verify(body.password)
        reason = "unknown_email" if user is None else "no_password"
        security_event(
            "login_failed", reason=reason, user_id=None if user is None else str(user.pk)
        )
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
    """End the caller's session: its refresh token and this access token stop working.

    An API key or a provider's token has no session here: ``400`` (``session_claims``).
    """
    claims = session_claims(get_principal(request))
    tokens = services().tokens
    if claims.sid is not None:
        tokens.revoke_session(claims.sub, claims.sid)
    if claims.jti is not None:
        tokens.revoke_jti(claims.sub, claims.jti, expires_at=claims.exp)
    return success_response(status=204)


@require_http_methods(["POST"])
@json_body(PasswordResetIn)
def password_reset(request: HttpRequest, body: PasswordResetIn) -> HttpResponse:
    """Send a password-reset token to the email's account: ``202`` and the same body
    whatever the email (unknown, malformed or a provider's user, which has no password).

    Limited per client address and per email by the one-time token service, before it
    looks at anything; ``503`` when no sender is configured.
    """
    tokens = require_reset(services().reset_tokens)
    to, email = reset_email(body.email)
    user = User.objects.filter(email=email).first() if email is not None else None
    known = user is not None and user.password_hash is not None
    tokens.issue(
        PASSWORD_RESET,
        to,
        user_id=str(user.pk) if known and user is not None else None,
        address=client_key(request),
    )
    return success_response(message=RESET_REQUESTED, status=202)


@require_http_methods(["POST"])
@no_store
@rate_limit(
    PASSWORD_RESET_CONFIRM_LIMIT,
    name="password-reset-confirm",
    failure_policy=CREDENTIAL_LIMIT_POLICY,
)
@json_body(PasswordResetConfirmIn)
def password_reset_confirm(request: HttpRequest, body: PasswordResetConfirmIn) -> HttpResponse:
    """Set a new password with a reset token (``204``) and end every session of the
    account; a used, expired, malformed or wrong-purpose token is a ``400`` on ``token``."""
    svc = services()
    tokens = require_reset(svc.reset_tokens)
    try:
        user_id = tokens.consume(PASSWORD_RESET, body.token).user_id
    except InvalidOneTimeToken:
        raise invalid_reset_token() from None
    hashed = svc.hasher.hash(body.password)  # outside any transaction
    with transaction.atomic():
        changed = User.objects.filter(pk=int(user_id)).update(
            password_hash=hashed, updated_at=timezone.now()
        )
    if not changed:  # the account was deleted after the token was sent
        raise invalid_reset_token()
    # Other reset links still in the mailbox, every refresh token and access token of the
    # account, and the cached copy all go with the old password.
    tokens.invalidate(user_id, PASSWORD_RESET)
    svc.tokens.revoke_user(user_id)
    svc.forget_user(int(user_id))
    return success_response(status=204)


# -- API keys -------------------------------------------------------------------------------


@method_decorator([require_http_methods(["GET", "POST"]), no_store, require_auth], name="dispatch")
class ApiKeyList(View):
    """``/api/v1/auth/api-keys``: the caller's keys, and new ones."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """The caller's keys, newest first, without their secrets."""
        user_id = get_principal(request).user_id
        listed = keys_newest_first(services().api_keys.list_keys(user_id))
        return success_response(listed, message="API keys retrieved successfully")

    def post(self, request: HttpRequest) -> HttpResponse:
        """A new key for the caller (shown once): only a session of this app or a
        provider's token may create one (``403`` for a key), with scopes it holds."""
        body = read_json(request, ApiKeyRequest)
        new = services().api_keys.create(
            get_principal(request),
            name=body.name,
            scopes=body.scopes,
            expires_in=body.expires_in,
        )
        return success_response(new_api_key_body(new), message="API key created", status=201)


@method_decorator([require_http_methods(["DELETE"]), require_auth], name="dispatch")
class ApiKeyDetail(View):
    """``/api/v1/auth/api-keys/<id>``: revoke one of the caller's keys."""

    def delete(self, request: HttpRequest, key_id: str) -> HttpResponse:
        """Revoke it: refused from the next request on, in every worker. Another user's
        key, or an unknown id, is a ``404``."""
        services().api_keys.revoke(get_principal(request).user_id, key_id)
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
        is_owner = _authorize_update(_caller(request), target, body)
        current = User.objects.filter(pk=target).first()
        if current is None:
            raise NotFound("User not found")
        changes: dict[str, Any] = body.model_dump(
            exclude_unset=True, exclude={"password", "current_password"}
        )
        if body.password is not None:
            if current.password_hash is None:  # signs in with its identity provider
                raise no_password()
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

    def delete(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """Delete an account (admins only); its sessions end at once."""
        check_roles(_caller(request), ["admin"])
        svc = services()
        target = _user_id(user_id)
        deleted, _ = User.objects.filter(pk=target).delete()
        if not deleted:
            raise NotFound("User not found")
        svc.forget_user(target)
        svc.tokens.revoke_user(str(target))
        return success_response(status=204)
