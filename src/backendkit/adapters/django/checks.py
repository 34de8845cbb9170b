"""System checks (``manage.py check``, ``runserver``, ``migrate``): settings mistakes with an
id, silenced with ``SILENCED_SYSTEM_CHECKS`` like any other. ``backendkit.E001``: an invalid
``settings.BACKENDKIT``; ``E002``: ``BackendKitMiddleware`` not in ``MIDDLEWARE``; ``W002``:
not first; ``E003``: the kit cannot do what it is configured to do
([`WebKit.check`][backendkit.web.WebKit.check]). The Django integration page details them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings as _django_settings  # type: ignore[import-untyped]
from django.core import checks  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit
from backendkit.errors import ConfigurationError, MissingDependencyError

__all__ = ["MIDDLEWARE_PATH", "check_settings"]

#: The dotted path ``MIDDLEWARE`` must list first.
MIDDLEWARE_PATH = "backendkit.adapters.django.BackendKitMiddleware"
_HINT = f'Insert it first: MIDDLEWARE.insert(0, "{MIDDLEWARE_PATH}").'


def check_settings(app_configs: Sequence[Any] | None = None, **_: Any) -> list[checks.CheckMessage]:
    """Check ``MIDDLEWARE`` and ``settings.BACKENDKIT``; the kit is built (and cached) now."""
    messages = []
    middleware = list(getattr(_django_settings, "MIDDLEWARE", None) or ())
    if MIDDLEWARE_PATH not in middleware:
        text = f"{MIDDLEWARE_PATH} is not in MIDDLEWARE."
        messages.append(checks.Error(text, hint=_HINT, id="backendkit.E002"))
    elif middleware[0] != MIDDLEWARE_PATH:
        text = f"{MIDDLEWARE_PATH} is not first in MIDDLEWARE: responses of {middleware[0]} "
        text += "get no request id and no envelope."
        messages.append(checks.Warning(text, hint=_HINT, id="backendkit.W002"))
    try:
        kit = current_kit()  # cached: the first request reuses what was checked here
    except (ConfigurationError, MissingDependencyError, ImportError) as exc:
        hint = (
            "Use backendkit setting names (RATE_LIMIT_DEFAULT, REDIS_URL, ...) and the "
            "adapter keys API_PREFIXES and KIT; see the Django integration page."
        )
        text = f"settings.BACKENDKIT is invalid: {exc}"
        return [*messages, checks.Error(text, hint=hint, id="backendkit.E001")]
    try:
        kit.check("sync")  # the middleware charges the default limit with it under WSGI
    except ConfigurationError as exc:
        hint = (
            "Let the adapter build the kit from settings.BACKENDKIT, or build yours with "
            "WebKit.from_settings, which builds the limiters and the token service."
        )
        messages.append(checks.Error(str(exc), hint=hint, id="backendkit.E003"))
    return messages


checks.register(check_settings, "backendkit")
