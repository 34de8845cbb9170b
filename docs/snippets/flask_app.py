"""A small Flask service on backendkit, written as an app factory.

Run it with ``BACKENDKIT_ENV=development flask --app docs.snippets.flask_app run``.
"""

from typing import Any

from flask import Flask

from backendkit.adapters.flask import (
    BackendKit,
    add_health_route,
    conditional_json,
    current_user,
    json_body,
    no_store,
    paginate,
    rate_limit,
    require_auth,
    require_roles,
)
from backendkit.auth import TokenService
from backendkit.errors import NotFound, Unauthenticated
from backendkit.listing import Page, PageParams
from backendkit.ratelimit import RateLimiter
from backendkit.responses import success
from backendkit.settings import Settings
from backendkit.validation import ApiModel
from backendkit.web import WebKit, cache_control

backendkit = BackendKit()


class Credentials(ApiModel):
    email: str
    password: str


class User(ApiModel):
    id: int
    email: str


USERS = [User(id=i, email=f"user{i}@example.com") for i in range(1, 43)]


def create_app(settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    settings = settings or Settings.from_env()
    kit = WebKit.from_settings(
        settings,
        tokens=TokenService.from_settings(settings),
        limiter=RateLimiter.from_settings(settings),
    )
    backendkit.init_app(app, kit=kit)
    add_health_route(app, "/health")  # pass database=engine, redis=connector in real apps

    @app.post("/api/v1/auth/login")
    @no_store
    @rate_limit("5/minute", failure_policy="local_fallback")  # never fails open
    @json_body(Credentials)
    def login(body: Credentials) -> Any:
        if body.password != "correct horse":  # noqa: S105 - demo; use PasswordHasher
            raise Unauthenticated("Invalid email or password")
        assert kit.tokens is not None
        token = kit.tokens.issue_access(body.email, claims={"roles": ["user"]})
        return success({"accessToken": token}, "Logged in")

    @app.get("/api/v1/users/me")
    @require_auth
    def me() -> Any:
        user = current_user()
        assert user is not None
        return success({"id": user.user_id})

    @app.get("/api/v1/users")
    @require_roles("user", "admin")
    @rate_limit("100/minute", key="user")
    @paginate
    def list_users(params: PageParams) -> Page[User]:
        rows = USERS[params.offset : params.offset + params.limit]
        return Page.build(rows, params, total=len(USERS))

    @app.get("/api/v1/users/<int:user_id>")
    def get_user(user_id: int) -> Any:
        for user in USERS:
            if user.id == user_id:
                # Public, cacheable by a CDN; revalidated with If-None-Match -> 304.
                return conditional_json(
                    success(user), cache_control=cache_control(public=True, max_age=60)
                )
        raise NotFound("User not found")

    return app
