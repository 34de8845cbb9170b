"""The app config of ``"backendkit.adapters.django.onetime"``.

Its label is ``backendkit_onetime``.
"""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]

__all__ = ["OneTimeTokensConfig"]


class OneTimeTokensConfig(AppConfig):  # type: ignore[misc]
    """The one-time token model and its migrations."""

    name = "backendkit.adapters.django.onetime"
    label = "backendkit_onetime"
    verbose_name = "backendkit one-time tokens"
    default_auto_field = "django.db.models.BigAutoField"
