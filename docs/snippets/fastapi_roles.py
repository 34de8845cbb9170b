"""Roles and scopes on FastAPI routes, and a second limit keyed by the client address."""

from typing import Annotated, Any

from fastapi import FastAPI, Request

from backendkit.adapters.fastapi import (
    ClientKey,
    JsonBody,
    RateLimit,
    get_cycle,
    get_kit,
    install,
    require_roles,
    require_scopes,
)
from backendkit.ratelimit import Rule
from backendkit.responses import success
from backendkit.validation import ApiModel
from backendkit.web import WebKit, aenforce_limit


class Credentials(ApiModel):
    email: str
    password: str


# One budget per (client address, email): slows down guessing one account's password.
LOGIN_PER_ACCOUNT = Rule("login-account", "5/15 minutes")


def create_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.get("/api/admin/stats", dependencies=[require_roles("admin")])  # any of the roles
    async def stats() -> dict[str, Any]:
        return success({"users": 42})

    @app.get("/api/reports", dependencies=[require_scopes("reports:read")])  # all of the scopes
    async def reports() -> dict[str, Any]:
        return success([])

    @app.post("/api/login", dependencies=[RateLimit("20/minute")])  # per client address
    async def login(
        request: Request, body: Annotated[Credentials, JsonBody(Credentials)], ip: ClientKey
    ) -> dict[str, Any]:
        limiter = get_kit(request).async_limiter
        assert limiter is not None
        key = f"{ip}:{body.email.lower()}"
        get_cycle(request).add_headers(await aenforce_limit(limiter, LOGIN_PER_ACCOUNT, key))
        return success({"email": body.email})  # verify the password here

    return app
