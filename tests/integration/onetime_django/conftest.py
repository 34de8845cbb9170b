"""Django set-up for the Django one-time token store tests: the shared project, a test
database per module on each alias (``default``: SQLite unless
``BACKENDKIT_TEST_DJANGO_DB=postgres``; ``postgres`` and ``mysql``: the real servers), with
the onetime app's migrations applied."""

from __future__ import annotations

from tests.integration.auth_django.conftest import alias

__all__ = ["alias"]
