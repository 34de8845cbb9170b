"""``settings.BACKENDKIT`` -> the process's [`WebKit`][backendkit.web.WebKit] and its
[`Pipeline`][backendkit.web.Pipeline].

Read once, on first use (the system checks or the loading of the middleware, both before
any request); Django's ``setting_changed`` signal (``override_settings``) drops them. The
keys are any ``Settings`` field in any case (over the ``BACKENDKIT_*`` variables), plus
``API_PREFIXES`` and ``KIT`` (a ``WebKit``, the dotted path of one, or of a factory). Without
a secret, Django's ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` are used: backendkit derives
its keys with its own labels, so they never coincide with Django's.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]
from django.utils.module_loading import import_string  # type: ignore[import-untyped]

from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.web import DEFAULT_API_PREFIXES, Pipeline, WebKit

__all__ = ["current_kit", "current_pipeline", "reset_config"]

T = TypeVar("T")
_ADAPTER_KEYS = frozenset({"KIT", "API_PREFIXES"})
# Django settings whose change must rebuild the kit.
_WATCHED = frozenset({"BACKENDKIT", "SECRET_KEY", "SECRET_KEY_FALLBACKS"})


class _State:
    lock = threading.Lock()
    pipeline: Pipeline | None = None
    owned = False  # only a kit the adapter built is closed by it


def _offload(call: Callable[[], T]) -> Awaitable[T]:
    # A sync limiter may do network I/O: an async request runs it off the event loop.
    return sync_to_async(call, thread_sensitive=False)()


def _prefixes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError("BACKENDKIT['API_PREFIXES'] must be a list of path prefixes")
    prefixes = tuple(str(p) for p in value)
    if not all(p.startswith("/") for p in prefixes):
        raise ConfigurationError("BACKENDKIT['API_PREFIXES'] entries must start with '/'")
    return prefixes


def _settings(raw: Mapping[str, Any]) -> Settings:
    overrides = {key.lower(): value for key, value in raw.items() if key not in _ADAPTER_KEYS}
    unknown = sorted(key.upper() for key in set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError("unknown keys in settings.BACKENDKIT: " + ", ".join(unknown))
    if "secret_key" not in overrides and not os.environ.get(ENV_PREFIX + "SECRET_KEY"):
        fallbacks = getattr(django_settings, "SECRET_KEY_FALLBACKS", None) or ()
        keys = [str(k) for k in (getattr(django_settings, "SECRET_KEY", ""), *fallbacks) if k]
        if keys:
            overrides["secret_key"] = keys
    return Settings.from_env(**overrides)


def _build() -> tuple[WebKit, bool]:
    raw = getattr(django_settings, "BACKENDKIT", None) or {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError("settings.BACKENDKIT must be a dict")
    raw = {str(key).upper(): value for key, value in raw.items()}
    prefixes = _prefixes(raw["API_PREFIXES"]) if "API_PREFIXES" in raw else None
    if "KIT" not in raw:
        kit = WebKit.from_settings(_settings(raw), api_prefixes=prefixes or DEFAULT_API_PREFIXES)
        return kit, True
    extra = sorted(set(raw) - _ADAPTER_KEYS)
    if extra:
        raise ConfigurationError(
            "BACKENDKIT['KIT'] brings its own settings; remove " + ", ".join(extra)
        )
    kit = raw["KIT"]
    kit = import_string(kit) if isinstance(kit, str) else kit
    kit = kit() if callable(kit) and not isinstance(kit, WebKit) else kit
    if not isinstance(kit, WebKit):
        raise ConfigurationError("BACKENDKIT['KIT'] must be a WebKit or build one")
    # API_PREFIXES wins over the kit's own: one scope for the envelope and the default limit.
    return (kit if prefixes is None else dataclasses.replace(kit, api_prefixes=prefixes)), False


def current_pipeline() -> Pipeline:
    """The pipeline of [`current_kit`][backendkit.adapters.django.current_kit]."""
    pipeline = _State.pipeline
    if pipeline is None:
        with _State.lock:
            if _State.pipeline is None:
                kit, _State.owned = _build()
                _State.pipeline = Pipeline(kit, offload=_offload)
            pipeline = _State.pipeline
    return pipeline


def current_kit() -> WebKit:
    """The process's kit, built from ``settings.BACKENDKIT`` on first use.

    Raises:
        ConfigurationError: the dict or the environment holds an invalid value.
    """
    return current_pipeline().kit


def reset_config() -> None:
    """Forget the kit: the next use rebuilds it (a kit the adapter built is closed, one
    handed in through ``KIT`` is left to its owner). ``override_settings`` calls it."""
    with _State.lock:
        old, owned = _State.pipeline, _State.owned
        _State.pipeline, _State.owned = None, False
    if old is not None and owned:
        old.kit.close()


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in _WATCHED:
        reset_config()


setting_changed.connect(_on_setting_changed, dispatch_uid="backendkit.adapters.django")
# Django has no shutdown signal: the kit the adapter built is closed when the worker exits.
atexit.register(reset_config)
