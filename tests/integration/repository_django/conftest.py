"""Django set-up for the queryset pagination tests (no pytest-django: done by hand).

The shared project ``tests.djangoproject`` is configured once; each database alias under
test (``default``: SQLite unless ``BACKENDKIT_TEST_DJANGO_DB=postgres``; ``postgres``: the
real server) gets a uniquely named test database for the module, created with Django's own
test-database machinery and destroyed afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.djangoproject.settings")
django.setup()

from django.db import connections
from tests.integration.repository.conftest import POSTGRES

ALIASES = [
    pytest.param("default", id="default"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module", params=ALIASES)
def alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database alias with the test app's tables in a fresh test database."""
    name: str = request.param
    if name == "postgres" or connections[name].vendor == "postgresql":
        POSTGRES.require()
    creation = connections[name].creation
    old_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connections[name].close()
        creation.destroy_test_db(old_name, verbosity=0)
