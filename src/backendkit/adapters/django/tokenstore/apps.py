"""The app config of ``"backendkit.adapters.django.tokenstore"``.

Its label is ``backendkit_tokenstore``.
"""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]

__all__ = ["TokenStoreConfig"]


class TokenStoreConfig(AppConfig):  # type: ignore[misc]
    """The token store's models and migrations."""

    name = "backendkit.adapters.django.tokenstore"
    label = "backendkit_tokenstore"
    verbose_name = "backendkit token store"
    default_auto_field = "django.db.models.BigAutoField"
