"""urls.py: a small users API written with backendkit's Django adapter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View
from django.views.decorators.http import require_GET, require_POST

from backendkit.adapters.django import (
    AuthRequiredMixin,
    RateLimitMixin,
    get_principal,
    http_cache,
    json_body,
    page_response,
    rate_limit,
    require_auth,
    require_roles,
    success_response,
)
from backendkit.errors import Conflict, NotFound
from backendkit.listing import Page, page_params
from backendkit.validation import ApiModel
from backendkit.web import RouteLimit


class Register(ApiModel):
    """The body of POST /api/users (camelCase or snake_case keys)."""

    email: str
    display_name: str


USERS: dict[str, dict[str, str]] = {
    "1": {"id": "1", "email": "ada@example.com", "displayName": "Ada"},
}


@require_POST
@rate_limit("5/minute", failure_policy="local_fallback")  # per address; never fails open
@json_body(Register)  # 415 / 413 / 400 / VALIDATION_ERROR before the view runs
def register(request: HttpRequest, body: Register) -> HttpResponse:
    if any(user["email"] == body.email for user in USERS.values()):
        raise Conflict("Email already registered")  # 409 CONFLICT envelope
    user = {"id": str(len(USERS) + 1), "email": body.email, "displayName": body.display_name}
    USERS[user["id"]] = user
    return success_response(user, message="User created", status=201)


@require_GET
@require_auth  # 401 without a valid Bearer token
def me(request: HttpRequest) -> HttpResponse:
    return success_response({"id": get_principal(request).user_id})


@require_GET
@require_roles("admin")
@http_cache(max_age=30, private=True)  # ETag + If-None-Match -> 304
def list_users(request: HttpRequest) -> HttpResponse:
    params = page_params(request.GET)  # ?page=2&perPage=50, validated
    rows = sorted(USERS.values(), key=lambda user: user["id"])
    items = rows[params.offset : params.offset + params.limit]
    return page_response(Page.build(items, params, total=len(rows)))


class UserDetail(AuthRequiredMixin, RateLimitMixin, View):
    """Class-based views use the mixins (authentication first) or method_decorator."""

    rate_limit = RouteLimit("30/minute", key="user")  # the caller AuthRequiredMixin verified

    def get(self, request: HttpRequest, user_id: str) -> HttpResponse:
        if user_id not in USERS:
            raise NotFound("User not found")
        return success_response(USERS[user_id])


urlpatterns = [
    path("api/users", register),
    path("api/users/me", me),
    path("api/users/all", list_users),
    path("api/users/<str:user_id>", UserDetail.as_view()),
]

# Route misses, 403s and crashes outside views, in the envelope for API paths.
handler400 = "backendkit.adapters.django.views.bad_request"
handler403 = "backendkit.adapters.django.views.permission_denied"
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"
