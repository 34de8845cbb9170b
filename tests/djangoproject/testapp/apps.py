"""App config of the test app."""

from __future__ import annotations

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    """The test app (models only; no migrations: test databases are created by syncdb)."""

    name = "tests.djangoproject.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.BigAutoField"
