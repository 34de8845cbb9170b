"""Django set-up for the Django API-key store tests: the shared project, a test database per
module on each alias (``default``: SQLite unless ``BACKENDKIT_TEST_DJANGO_DB=postgres``;
``postgres``: the real server), with the apikeys app's migration applied."""

from __future__ import annotations

from tests.integration.repository_django.conftest import alias

__all__ = ["alias"]
