"""Django set-up for the Django token store tests (no pytest-django: done by hand).

The shared project ``tests.djangoproject`` is configured once. Each database alias under
test gets a uniquely named test database for the module, created by Django's own
test-database machinery (migrations included) and destroyed afterwards: ``default``
(SQLite unless ``BACKENDKIT_TEST_DJANGO_DB=postgres``), ``postgres`` (the real server) and
``mysql``, an alias these tests add for the MariaDB server (PyMySQL standing in for
mysqlclient, as its ``install_as_MySQLdb`` provides).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

import pymysql
import pytest
from django.db import connections
from tests.integration.repository.conftest import MYSQL, POSTGRES
from tests.integration.repository_django import conftest as _django  # noqa: F401  (setup)

pymysql.install_as_MySQLdb()

ALIASES = [
    pytest.param("default", id="default"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


def _add_mysql_alias() -> None:
    if "mysql" in connections.settings:
        return
    parts = urlsplit(MYSQL.require())
    database = {
        "ENGINE": "django.db.backends.mysql",
        "NAME": (parts.path or "/test").lstrip("/") or "test",
        "USER": unquote(parts.username or "root"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 3306),
        "OPTIONS": {"charset": "utf8mb4"},
        "TEST": {"NAME": f"bk_django_tokens_{uuid.uuid4().hex[:8]}"},
    }
    configured = connections.configure_settings({"default": database})["default"]
    connections.settings["mysql"] = configured


@pytest.fixture(scope="module", params=ALIASES)
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database alias with every app's tables in a fresh test database."""
    name: str = request.param
    if name == "mysql":
        _add_mysql_alias()
    elif name == "postgres" or connections[name].vendor == "postgresql":
        POSTGRES.require()
    creation = connections[name].creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connections[name].close()
        creation.destroy_test_db(old_name, verbosity=0)
