"""The app config of ``"backendkit.adapters.django"`` in ``INSTALLED_APPS``: it registers the
system checks (``backendkit.adapters.django.checks``); no models, no migrations."""

from __future__ import annotations

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
