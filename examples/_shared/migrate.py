"""The FastAPI and Flask examples' schema: Alembic migrations, applied before the app starts.

The migrations live in ``examples/migrations`` (one history: both apps serve the same
``users`` table); each app's ``alembic.ini`` names the app, and so its models and its
database driver. A deployment runs ``alembic -c examples/<app>_app/alembic.ini upgrade
head`` once, before the new release's workers start; the workers never create or alter
tables (workers starting together would race, and a release must be able to run against
the schema of the next one, see docs/deployment.md). The demo, one process on a SQLite file,
applies the migrations itself through ``upgrade_head``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, inspect

from backendkit.errors import ConfigurationError

__all__ = ["alembic_ini", "require_schema", "upgrade_head"]

_EXAMPLES = Path(__file__).resolve().parents[1]
# One table of each migration that added some: a database short of one is not at head.
_REQUIRED_TABLES = ("users", "provider_identities", "bk_api_keys")


def alembic_ini(app: str) -> Path:
    """The ``alembic.ini`` of the ``app`` example (``fastapi`` or ``flask``)."""
    return _EXAMPLES / f"{app}_app" / "alembic.ini"


def upgrade_head(app: str, url: str | None = None) -> None:
    """``alembic upgrade head`` for ``app``, on ``url`` (default: the app's own database)."""
    # Alembic 1.16+ announces each of its autogenerate plugins at INFO when first imported:
    # noise in the demo.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic import command
    from alembic.config import Config

    config = Config(str(alembic_ini(app)))
    if url is not None:
        # The .ini's interpolation reads "%" (a percent-encoded password) as its own syntax.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def require_schema(connection: Connection, app: str) -> None:
    """Refuse to start on a database the migrations have not been applied to.

    Raises:
        ConfigurationError: a table of the latest migration is missing (``users``, or
            those of 0004: ``provider_identities`` and backendkit's ``bk_api_keys``); the
            message gives the command.
    """
    tables = inspect(connection)
    missing = [name for name in _REQUIRED_TABLES if not tables.has_table(name)]
    if missing:
        raise ConfigurationError(
            f"the database has no {missing[0]} table: apply the migrations first, from the "
            f"repository root: alembic -c examples/{app}_app/alembic.ini upgrade head"
        )
