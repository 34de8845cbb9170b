"""A small FastAPI service on backendkit.

Run it with ``BACKENDKIT_ENV=development`` (backendkit writes the access log and decides the
client address)::

    uvicorn --factory docs.snippets.fastapi_app:create_app --no-access-log --no-proxy-headers
"""

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from backendkit.adapters.fastapi import (
    CurrentUser,
    JsonBody,
    Pagination,
    RateLimit,
    add_health_route,
    conditional_json,
    install,
    no_store,
    require_roles,
)
from backendkit.auth import TokenService
from backendkit.errors import NotFound, Unauthenticated
from backendkit.listing import Page
from backendkit.ratelimit import AsyncRateLimiter
from backendkit.responses import Envelope, PageEnvelope, paginated, success
from backendkit.settings import Settings
from backendkit.validation import ApiModel
from backendkit.web import WebKit, cache_control


class Credentials(ApiModel):
    email: str
    password: str


class Tokens(ApiModel):
    access_token: str


class User(ApiModel):
    id: int
    email: str


USERS = [User(id=i, email=f"user{i}@example.com") for i in range(1, 43)]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    kit = WebKit.from_settings(
        settings,
        tokens=TokenService.from_settings(settings),
        async_limiter=AsyncRateLimiter.from_settings(settings),
    )
    app = FastAPI(title="Users")
    install(app, kit)
    add_health_route(app, "/health")  # pass database=engine, redis=connector in real apps

    @app.post(
        "/api/v1/auth/login",
        response_model=Envelope[Tokens],
        dependencies=[RateLimit("5/minute", failure_policy="local_fallback"), Depends(no_store)],
    )
    async def login(body: Annotated[Credentials, JsonBody(Credentials)]) -> dict[str, Any]:
        if body.password != "correct horse":  # noqa: S105 - demo; use PasswordHasher
            raise Unauthenticated("Invalid email or password")
        assert kit.tokens is not None
        token = kit.tokens.issue_access(body.email, claims={"roles": ["user"]})
        return success(Tokens(access_token=token), "Logged in")

    @app.get("/api/v1/users/me", response_model=Envelope[dict[str, str]])
    async def me(user: CurrentUser) -> dict[str, Any]:
        return success({"id": user.user_id})

    @app.get(
        "/api/v1/users",
        response_model=PageEnvelope[User],
        dependencies=[require_roles("user", "admin"), RateLimit("100/minute", key="user")],
    )
    async def list_users(params: Pagination) -> dict[str, Any]:
        rows = USERS[params.offset : params.offset + params.limit]
        page = Page.build(rows, params, total=len(USERS))
        return paginated(page)

    @app.get("/api/v1/users/{user_id}", response_model=Envelope[User])
    async def get_user(user_id: int, request: Request) -> Any:
        for user in USERS:
            if user.id == user_id:
                # Public, cacheable by a CDN; revalidated with If-None-Match -> 304.
                return conditional_json(
                    request, success(user), cache_control=cache_control(public=True, max_age=60)
                )
        raise NotFound("User not found")

    return app
