"""``settings.BACKENDKIT`` -> one [`WebKit`][backendkit.web.WebKit] per process.

The dict is read once, on first use (the system checks of the ``backendkit`` app, or the
middleware when the server loads it, both before any request), and the result is cached;
Django's ``setting_changed`` signal (sent by ``override_settings`` in tests) drops the cache
so the next request sees the new configuration. The kit built from the dict has the token
service, limiters and cache its settings describe
([`WebKit.from_settings`][backendkit.web.WebKit.from_settings]).

```python
BACKENDKIT = {
    # any backendkit Settings field, upper- or lower-case (BACKENDKIT_* variables fill the rest)
    "RATE_LIMIT_DEFAULT": "100/minute",
    "MAX_BODY_BYTES": 1_048_576,
    # adapter options
    "API_PREFIXES": ["/api/"],
    # or a ready-made kit (a WebKit, or the dotted path of one or of a factory returning one)
    # "KIT": "myproject.kit.build_kit",
}
```

Without ``SECRET_KEY`` in the dict or ``BACKENDKIT_SECRET_KEY`` in the environment, Django's
own ``SECRET_KEY`` (and ``SECRET_KEY_FALLBACKS``, for rotation) are used: backendkit derives
its purpose-specific keys with its own labels, so they never coincide with Django's.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.web import DEFAULT_API_PREFIXES, WebKit

__all__ = ["DjangoOptions", "get_kit", "get_options", "reset_config"]

#: Keys of ``settings.BACKENDKIT`` that configure the adapter rather than ``Settings``.
_ADAPTER_KEYS = frozenset({"KIT", "API_PREFIXES"})
_DEFAULT_PREFIXES = DEFAULT_API_PREFIXES
# Django settings whose change must rebuild the kit.
_WATCHED = frozenset({"BACKENDKIT", "SECRET_KEY", "SECRET_KEY_FALLBACKS"})


@dataclass(frozen=True, slots=True)
class DjangoOptions:
    """Adapter options from ``settings.BACKENDKIT``.

    Attributes:
        api_prefixes: path prefixes served as a JSON API. Requests under them get the error
            envelope on every error path (route misses, 405, CSRF failures, ``DEBUG`` pages),
            the body-size cap and the default rate limit; every other path (the admin, HTML
            pages) gets only the request id, the access log and the security headers.
            ``["/"]`` makes the whole site an API. The same value as the kit's
            [`api_prefixes`][backendkit.web.WebKit] (without ``API_PREFIXES`` in the dict,
            a kit handed in through ``KIT`` brings its own).
    """

    api_prefixes: tuple[str, ...] = _DEFAULT_PREFIXES

    def is_api_path(self, path: str) -> bool:
        """True when ``path`` is under one of the API prefixes."""
        return path.startswith(self.api_prefixes)


class _State:
    """The cached configuration; rebuilt after ``setting_changed``."""

    lock = threading.Lock()
    kit: WebKit | None = None
    # Only a kit the adapter built is closed by it; a kit handed in via "KIT" belongs to the app.
    owned = False
    options: DjangoOptions | None = None
    closer_registered = False


def _raw_config() -> dict[str, Any]:
    raw = getattr(django_settings, "BACKENDKIT", None) or {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError("settings.BACKENDKIT must be a dict")
    return {str(key).upper(): value for key, value in raw.items()}


def _options(raw: Mapping[str, Any]) -> DjangoOptions:
    if "API_PREFIXES" not in raw:
        return DjangoOptions(api_prefixes=get_kit().api_prefixes)
    return DjangoOptions(api_prefixes=_prefixes(raw))


def _prefixes(raw: Mapping[str, Any]) -> tuple[str, ...]:
    prefixes = raw.get("API_PREFIXES", _DEFAULT_PREFIXES)
    if isinstance(prefixes, str) or not isinstance(prefixes, Iterable):
        raise ConfigurationError("BACKENDKIT['API_PREFIXES'] must be a list of path prefixes")
    cleaned = tuple(str(p) for p in prefixes)
    if not all(p.startswith("/") for p in cleaned):
        raise ConfigurationError("BACKENDKIT['API_PREFIXES'] entries must start with '/'")
    return cleaned


def _django_secret_keys() -> list[str]:
    keys = [getattr(django_settings, "SECRET_KEY", "") or ""]
    keys.extend(getattr(django_settings, "SECRET_KEY_FALLBACKS", ()) or ())
    return [str(k) for k in keys if k]


def _build_kit(raw: Mapping[str, Any]) -> tuple[WebKit, bool]:
    if "KIT" in raw:
        extra = sorted(set(raw) - _ADAPTER_KEYS)
        if extra:
            raise ConfigurationError(
                "BACKENDKIT['KIT'] brings its own settings; remove " + ", ".join(extra)
            )
        kit = raw["KIT"]
        if isinstance(kit, str):
            kit = import_string(kit)
        if not isinstance(kit, WebKit) and callable(kit):
            kit = kit()
        if not isinstance(kit, WebKit):
            raise ConfigurationError("BACKENDKIT['KIT'] must be a WebKit or build one")
        return kit, False
    overrides = {key.lower(): value for key, value in raw.items() if key not in _ADAPTER_KEYS}
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError(
            "unknown keys in settings.BACKENDKIT: " + ", ".join(k.upper() for k in unknown)
        )
    if "secret_key" not in overrides and not os.environ.get(ENV_PREFIX + "SECRET_KEY"):
        django_keys = _django_secret_keys()
        if django_keys:
            overrides["secret_key"] = django_keys
    # The kit carries the prefixes too, so the core scopes the default limit the same way.
    return WebKit.from_settings(Settings.from_env(**overrides), api_prefixes=_prefixes(raw)), True


def _close_kit() -> None:
    kit = _State.kit
    if kit is not None and _State.owned:
        kit.close()


def get_kit() -> WebKit:
    """Return the process-wide kit, building it from ``settings.BACKENDKIT`` on first use.

    Raises:
        ConfigurationError: the dict or the environment holds an invalid value.
    """
    kit = _State.kit
    if kit is not None:
        return kit
    with _State.lock:
        if _State.kit is None:
            _State.kit, _State.owned = _build_kit(_raw_config())
            if not _State.closer_registered:
                # Django has no shutdown signal: close pools when the worker exits.
                atexit.register(_close_kit)
                _State.closer_registered = True
        return _State.kit


def get_options() -> DjangoOptions:
    """Return the adapter options from ``settings.BACKENDKIT`` (parsed once)."""
    options = _State.options
    if options is None:
        options = _State.options = _options(_raw_config())
    return options


def reset_config() -> None:
    """Forget the cached kit and options; the next request rebuilds them.

    Called automatically when ``BACKENDKIT`` or ``SECRET_KEY`` change (``override_settings``);
    a kit the adapter built is closed, one handed in through ``KIT`` is left to its owner.
    """
    with _State.lock:
        old, owned = _State.kit, _State.owned
        _State.kit, _State.options, _State.owned = None, None, False
    if old is not None and owned:
        old.close()


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in _WATCHED:
        reset_config()


setting_changed.connect(_on_setting_changed, dispatch_uid="backendkit.adapters.django")
