"""Roles and scopes on FastAPI routes, and a second limit keyed by the client address."""

from typing import Annotated, Any

from fastapi import FastAPI, Request

from backendkit.adapters.fastapi import (
    ClientKey,
    JsonBody,
    RateLimit,
    charge_limit,
    install,
    require_roles,
    require_scopes,
)
from backendkit.responses import success
from backendkit.validation import ApiModel
from backendkit.web import WebKit


class Credentials(ApiModel):
    email: str
    password: str


# Rules that guard credentials never fail open: while Redis is down, each worker counts.
GUARD = "local_fallback"


def create_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.get("/api/admin/stats", dependencies=[require_roles("admin")])  # any of the roles
    async def stats() -> dict[str, Any]:
        return success({"users": 42})

    @app.get("/api/reports", dependencies=[require_scopes("reports:read")])  # all of the scopes
    async def reports() -> dict[str, Any]:
        return success([])

    # Per client address, then one budget per (address, email): slows down guessing one
    # account's password. The response shows whichever budget is closer to running out.
    @app.post("/api/login", dependencies=[RateLimit("20/minute", failure_policy=GUARD)])
    async def login(
        request: Request, body: Annotated[Credentials, JsonBody(Credentials)], ip: ClientKey
    ) -> dict[str, Any]:
        bucket = f"login:{ip}:{body.email.lower()}"
        await charge_limit(
            request, "5/15 minutes", bucket=bucket, name="login-account", failure_policy=GUARD
        )
        return success({"email": body.email})  # verify the password here

    return app
