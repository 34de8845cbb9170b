"""The FastAPI application factory: ``uvicorn --factory examples.fastapi_app.main:create_app``."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from backendkit.adapters.fastapi import add_health_route, add_metrics_route, install
from backendkit.logging import configure_logging, get_logger
from examples._shared.config import ExampleConfig, load_config
from examples.fastapi_app.routers import api_keys, auth, password_reset, token, users
from examples.fastapi_app.services import build_services

__all__ = ["create_app"]

log = get_logger("examples.fastapi")


# --8<-- [start:create_app]
def create_app(config: ExampleConfig | None = None) -> FastAPI:
    """Build the app from the environment (or ``config``); nothing connects until start."""
    config = config or load_config("fastapi")
    configure_logging(config.settings)
    services = build_services(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.check_database()
        yield  # backendkit's install() closes the kit (and so the services) at shutdown

    app = FastAPI(
        title="backendkit example: users (FastAPI)",
        version="1.0",
        lifespan=lifespan,
        redirect_slashes=False,  # an API answers 404, not a redirect, for "/users/"
    )
    app.state.services = services
    # The settings carry the default budget (BACKENDKIT_RATE_LIMIT_DEFAULT): install()
    # charges it on every /api/ request, keyed by client address.
    # --8<-- [start:install]
    install(app, services.kit, token_url=token.TOKEN_URL)  # Swagger's Authorize signs in
    # --8<-- [end:install]
    # /health is never charged the default budget.
    add_health_route(app, "/health", database=services.engine, redis=services.redis)
    # Prometheus scrapes /metrics (neither it nor /health is counted or rate limited).
    add_metrics_route(app, "/metrics", token=config.metrics_token)

    api = APIRouter(prefix="/api/v1")
    api.include_router(auth.router)
    api.include_router(token.router)
    api.include_router(password_reset.router)
    api.include_router(api_keys.router)
    api.include_router(users.router)
    app.include_router(api)
    return app


# --8<-- [end:create_app]
