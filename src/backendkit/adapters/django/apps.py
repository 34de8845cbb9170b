"""The Django app config: add ``"backendkit.adapters.django"`` to ``INSTALLED_APPS``.

Installing the app registers backendkit's system checks
(``backendkit.adapters.django.checks``), so that
settings mistakes stop ``manage.py check``, ``runserver`` and ``migrate`` with an id.
The app has no models and no migrations.
"""

from __future__ import annotations

from backendkit._extras import require

require("django", "django")

from django.apps import AppConfig  # type: ignore[import-untyped]

__all__ = ["BackendKitConfig"]


class BackendKitConfig(AppConfig):  # type: ignore[misc]
    """backendkit's app config (label ``backendkit``)."""

    name = "backendkit.adapters.django"
    label = "backendkit"
    verbose_name = "backendkit"

    def ready(self) -> None:
        """Register the system checks."""
        from backendkit.adapters.django import checks  # noqa: F401
