"""The app config of ``"backendkit.adapters.django.apikeys"``.

Its label is ``backendkit_apikeys``.
"""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]

__all__ = ["ApiKeysConfig"]


class ApiKeysConfig(AppConfig):  # type: ignore[misc]
    """The API-key model and its migrations."""

    name = "backendkit.adapters.django.apikeys"
    label = "backendkit_apikeys"
    verbose_name = "backendkit API keys"
    default_auto_field = "django.db.models.BigAutoField"
