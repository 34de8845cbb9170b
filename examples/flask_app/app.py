"""The Flask application factory: ``gunicorn 'examples.flask_app:create_app()'``."""

from __future__ import annotations

from flask import Blueprint, Flask

from backendkit.adapters.flask import BackendKit, add_health_route, add_metrics_route
from backendkit.logging import configure_logging
from examples._shared.config import ExampleConfig, load_config
from examples.flask_app import api_keys, auth, password_reset, users
from examples.flask_app.services import EXTENSION, build_services

__all__ = ["create_app"]


def create_app(config: ExampleConfig | None = None) -> Flask:
    """Build the app from the environment (or ``config``); the admin is created here.

    The tables are the migrations' (``alembic -c examples/flask_app/alembic.ini upgrade
    head`` first): a database without them stops the start with a ``ConfigurationError``.
    """
    config = config or load_config("flask")
    configure_logging(config.settings)
    services = build_services(config)
    app = Flask(__name__)
    # An API answers 404 rather than redirecting "/api//users" to "/api/users".
    app.url_map.merge_slashes = False
    app.extensions[EXTENSION] = services
    # The kit's settings carry the default budget (BACKENDKIT_RATE_LIMIT_DEFAULT): the
    # extension charges it on every /api/ request, keyed by client address. It closes the
    # kit (pools, connectors) when the worker exits: WSGI has no shutdown hook.
    BackendKit(app, kit=services.kit)
    services.check_database()
    # /health is never charged the default budget.
    add_health_route(app, "/health", database=services.engine, redis=services.redis)
    # Prometheus scrapes /metrics (neither it nor /health is counted or rate limited).
    add_metrics_route(app, "/metrics", token=config.metrics_token)

    # Everything under /api/v1; built per app: a registered blueprint takes no more children.
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.register_blueprint(auth.bp)
    api.register_blueprint(password_reset.bp)
    api.register_blueprint(api_keys.bp)
    api.register_blueprint(users.bp)
    app.register_blueprint(api)
    return app
