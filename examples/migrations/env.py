"""Alembic environment of the FastAPI and Flask examples: one schema, one history.

Both examples serve the same ``users`` table, so they share these migrations; each has an
``alembic.ini`` of its own that names it (``example_app``), and so its models (what
``alembic check`` and ``--autogenerate`` compare with) and its database: the URL the app
itself connects with, from ``BACKENDKIT_DATABASE_URL`` alone (or the app's default SQLite
file), with the app's driver: asyncio for FastAPI (``postgresql+asyncpg``,
``sqlite+aiosqlite``, ...), sync for Flask. A ``sqlalchemy.url`` set on the configuration
(the demo, the tests) wins. Whatever the URL, its dialect says whether to connect through
an ``AsyncEngine`` (and run the migrations in ``run_sync``) or a plain ``Engine``.

SQLite cannot alter a column in place: there, operations run in batch mode (copy the table,
alter the copy, swap), and ``--autogenerate`` writes them that way.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from alembic import context
from examples._shared.config import database_url_from_env
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from backendkit.auth.sql import auth_metadata

#: Each example's models module, and whether the app connects through asyncio.
APPS = {
    "fastapi": ("examples.fastapi_app.models", True),
    "flask": ("examples.flask_app.models", False),
}

config = context.config
app = config.get_main_option("example_app") or ""
if app not in APPS:
    raise SystemExit(f"{config.config_file_name}: example_app must be one of {sorted(APPS)}")
models, asynchronous = APPS[app]
# The app's tables and backendkit's (sessions, API keys, one-time tokens: bk_*), which the
# migrations create and alembic check holds to the library's definitions.
target_metadata: list[MetaData] = [importlib.import_module(models).Base.metadata, auth_metadata]

# The command line prints alembic's progress; a program that configured logging (the demo,
# a test run) keeps its own.
if config.config_file_name is not None and not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-5.5s [%(name)s] %(message)s")


def database_url() -> str:
    """``sqlalchemy.url`` if set, else the app's own database URL and driver."""
    return config.get_main_option("sqlalchemy.url") or database_url_from_env(
        app, asynchronous=asynchronous
    )


def configure(dialect: str, **options: Any) -> None:
    """Configure the migration context (batch mode on SQLite)."""
    context.configure(
        target_metadata=target_metadata, render_as_batch=dialect == "sqlite", **options
    )


def run_offline(url: str) -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    configure(
        make_url(url).get_backend_name(),
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run the migrations on one connection, in one transaction where the database can."""
    configure(connection.dialect.name, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    """Connect through the asyncio driver and run the migrations in ``run_sync``."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_online(url: str) -> None:
    """Connect with the URL's own driver, asyncio or not."""
    if make_url(url).get_dialect().is_async:
        asyncio.run(run_async(url))
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline(database_url())
else:
    run_online(database_url())
