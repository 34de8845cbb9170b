"""Example configuration shared by the three services (environment variables only).

Nothing here is business logic: each service implements the API in its own framework's
idiom; this package reads the example's environment variables (``config``,
``auth_env``, ``database_urls``), holds the wire models (``schemas``), which are plain
pydantic and identical for every framework, and the framework-free sign-in rules every
example follows (``auth_extras``: provider users, API keys, password reset).
"""

from examples._shared.config import (
    DEV_ADMIN_EMAIL,
    DEV_ADMIN_PASSWORD,
    ExampleConfig,
    load_config,
)

__all__ = ["DEV_ADMIN_EMAIL", "DEV_ADMIN_PASSWORD", "ExampleConfig", "load_config"]
