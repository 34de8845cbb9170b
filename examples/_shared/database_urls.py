"""Database URLs of the examples: the driver each app connects with, and Django's form.

``BACKENDKIT_DATABASE_URL`` names a database (``sqlite:///...``, ``postgresql://...``,
``mysql://...``); each example picks its own driver for it (asyncio for FastAPI, sync for
Flask and Django), unless the URL names one already.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from backendkit.errors import ConfigurationError

__all__ = ["django_database", "with_driver"]

_ASYNC_DRIVERS = frozenset(
    {"asyncpg", "psycopg", "psycopg_async", "aiosqlite", "asyncmy", "aiomysql"}
)
_SYNC_DRIVERS = frozenset({"psycopg", "psycopg2", "pysqlite", "pymysql", "mysqldb"})
_DEFAULT_SYNC = {
    "sqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_DEFAULT_ASYNC = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "mysql": "mysql+asyncmy",
    "mariadb": "mariadb+asyncmy",
}


def with_driver(url: str, *, asynchronous: bool) -> str:
    """``url`` with the driver the example connects with: its own when it names one this
    example uses, else the default of its dialect (asyncio or sync).

    Raises:
        ConfigurationError: not ``dialect://...``, or a database without such a driver here.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError("BACKENDKIT_DATABASE_URL must look like dialect://...")
    dialect, _, driver = scheme.partition("+")
    dialect = "postgresql" if dialect == "postgres" else dialect
    if asynchronous:
        if driver in _ASYNC_DRIVERS:
            return f"{dialect}+{driver}://{rest}"
        chosen = _DEFAULT_ASYNC.get(dialect)
        if chosen is None:
            raise ConfigurationError(
                f"BACKENDKIT_DATABASE_URL: no asyncio driver for {dialect!r} in this example; "
                "use SQLite, PostgreSQL, MySQL or MariaDB"
            )
        return f"{chosen}://{rest}"
    if driver in _SYNC_DRIVERS:
        return f"{dialect}+{driver}://{rest}"
    chosen = _DEFAULT_SYNC.get(dialect)
    if chosen is None:
        raise ConfigurationError(f"BACKENDKIT_DATABASE_URL: unsupported database {dialect!r}")
    return f"{chosen}://{rest}"


def django_database(url: str) -> dict[str, Any]:
    """``url`` as a Django ``DATABASES["default"]`` entry.

    Raises:
        ConfigurationError: not a SQLite, PostgreSQL, MySQL or MariaDB URL.
    """
    parts = urlsplit(url)
    dialect = parts.scheme.partition("+")[0]
    if dialect == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy reads them.
        name = parts.path[1:] if parts.path.startswith("/") else parts.path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name or ":memory:"}
    if dialect in ("postgresql", "postgres"):
        return _django_server_database("django.db.backends.postgresql", parts, {})
    if dialect in ("mysql", "mariadb"):
        # Django 4.2 still defaults to the 3-byte "utf8"; names and emails may hold any
        # character. The driver is PyMySQL under MySQLdb's name (the example's settings.py).
        return _django_server_database("django.db.backends.mysql", parts, {"charset": "utf8mb4"})
    raise ConfigurationError(
        "BACKENDKIT_DATABASE_URL: the Django example supports sqlite://, postgresql:// and "
        "mysql:// (or mariadb://) URLs"
    )


def _django_server_database(
    engine: str, parts: SplitResult, options: dict[str, str]
) -> dict[str, Any]:
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": {**options, **dict(parse_qsl(parts.query))},
        # Persistent connections, checked before reuse (like pool_pre_ping).
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
