"""System checks (``manage.py check``, ``runserver``, ``migrate``) for backendkit's settings.

They run when ``"backendkit.adapters.django"`` is in ``INSTALLED_APPS`` and report a
settings mistake with an id at start-up, instead of an error on some later request:

- ``backendkit.E001``: ``settings.BACKENDKIT`` is invalid (not a dict, an unknown key, a
  value that does not parse, a ``KIT`` that is no ``WebKit``, a Redis URL without
  ``backendkit[redis]``).
- ``backendkit.E002``: ``BackendKitMiddleware`` is not in ``MIDDLEWARE``.
- ``backendkit.W002``: ``BackendKitMiddleware`` is not first in ``MIDDLEWARE`` (the
  responses of the middleware above it get no request id and no envelope).
- ``backendkit.E003``: the kit cannot do what it is configured to do
  (``RATE_LIMIT_DEFAULT`` without a limiter, a JWT secret or cookie transport without a
  token service).

Silence one with Django's ``SILENCED_SYSTEM_CHECKS`` like any other check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.conf import settings as _django_settings  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit, get_options
from backendkit.errors import ConfigurationError, MissingDependencyError

__all__ = ["MIDDLEWARE_PATH", "check_settings"]

#: The dotted path ``MIDDLEWARE`` must list first.
MIDDLEWARE_PATH = "backendkit.adapters.django.BackendKitMiddleware"
_TAG = "backendkit"


def check_settings(app_configs: Sequence[Any] | None = None, **_: Any) -> list[checks.CheckMessage]:
    """Check ``MIDDLEWARE`` and ``settings.BACKENDKIT``; the kit is built (and cached) now."""
    messages = _check_middleware()
    try:
        # Both are cached: the first request reuses what was built and checked here.
        kit = get_kit()
        get_options()
    except (ConfigurationError, MissingDependencyError, ImportError) as exc:
        messages.append(
            checks.Error(
                f"settings.BACKENDKIT is invalid: {exc}",
                hint="Use backendkit setting names (RATE_LIMIT_DEFAULT, REDIS_URL, ...) and "
                "the adapter keys API_PREFIXES and KIT; see the Django integration page.",
                id="backendkit.E001",
            )
        )
        return messages
    try:
        # The middleware charges the default limit with the sync limiter in WSGI mode.
        kit.check("sync")
    except ConfigurationError as exc:
        messages.append(
            checks.Error(
                str(exc),
                hint="Let the adapter build the kit from settings.BACKENDKIT, or build yours "
                "with WebKit.from_settings, which builds the limiters and the token service.",
                id="backendkit.E003",
            )
        )
    return messages


def _check_middleware() -> list[checks.CheckMessage]:
    middleware = list(getattr(_django_settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE_PATH not in middleware:
        return [
            checks.Error(
                f"{MIDDLEWARE_PATH} is not in MIDDLEWARE.",
                hint=f'Insert it first: MIDDLEWARE.insert(0, "{MIDDLEWARE_PATH}").',
                id="backendkit.E002",
            )
        ]
    if middleware[0] != MIDDLEWARE_PATH:
        return [
            checks.Warning(
                f"{MIDDLEWARE_PATH} is not first in MIDDLEWARE: responses of "
                f"{middleware[0]} get no request id and no envelope.",
                hint=f'Insert it first: MIDDLEWARE.insert(0, "{MIDDLEWARE_PATH}").',
                id="backendkit.W002",
            )
        ]
    return []


checks.register(check_settings, _TAG)
