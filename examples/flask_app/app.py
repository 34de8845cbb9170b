"""The Flask application factory: ``gunicorn 'examples.flask_app:create_app()'``."""

from __future__ import annotations

import atexit

from flask import Blueprint, Flask

from backendkit.adapters.flask import BackendKit, add_health_route, rate_limit
from backendkit.logging import configure_logging, get_logger
from backendkit.web import WebKit
from examples._shared.config import ExampleConfig, load_config
from examples.flask_app import auth, users
from examples.flask_app.services import EXTENSION, build_services

__all__ = ["create_app"]

log = get_logger("examples.flask")


def _api_budget() -> None:
    """Runs before every ``/api/`` view, wrapped in the default rate limit (see below)."""


def create_app(config: ExampleConfig | None = None) -> Flask:
    """Build the app from the environment (or ``config``): tables and admin are created here."""
    config = config or load_config("flask")
    configure_logging(config.settings)
    if config.insecure_jwt_secret:
        log.warning(
            "insecure_jwt_secret",
            detail="BACKENDKIT_JWT_SECRET is not set: tokens are signed with a PUBLIC "
            "development key and can be forged. Never run like this in production.",
        )
    services = build_services(config)
    app = Flask(__name__)
    # An API answers 404 rather than redirecting "/api//users" to "/api/users".
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION] = services
    BackendKit(
        app,
        kit=WebKit.from_settings(
            config.web_settings, tokens=services.tokens, limiter=services.limiter
        ),
    )
    atexit.register(services.close)  # WSGI has no shutdown hook: close pools at exit
    services.setup_database()
    add_health_route(app, "/health", database=services.engine, redis=services.redis)

    # A parent blueprint per app: its hook charges the default budget (keyed by client
    # address) before every /api/ view; /health is outside it.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(rate_limit(config.rate_limit, name="default")(_api_budget))
    api.register_blueprint(auth.bp)
    api.register_blueprint(users.bp)
    app.register_blueprint(api)
    return app
