"""``settings.BACKENDKIT`` -> the process's [`WebKit`][backendkit.web.WebKit] and its
[`Pipeline`][backendkit.web.Pipeline], built on first use (the system checks or the loading
of the middleware, before any request) and dropped by ``setting_changed``
(``override_settings``). Without a secret, Django's ``SECRET_KEY`` and
``SECRET_KEY_FALLBACKS`` are used: backendkit derives its keys with its own labels.
"""

from __future__ import annotations

import atexit
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings as django_settings  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]

from backendkit.web import Pipeline, WebKit
from backendkit.web._kit_config import LazyPipeline, kit_from_config

__all__ = ["current_kit", "current_pipeline", "reset_config"]

T = TypeVar("T")
# Django settings whose change must rebuild the kit.
_WATCHED = frozenset({"BACKENDKIT", "SECRET_KEY", "SECRET_KEY_FALLBACKS"})


def _offload(call: Callable[[], T]) -> Awaitable[T]:
    # A sync limiter may do network I/O: an async request runs it off the event loop.
    return sync_to_async(call, thread_sensitive=False)()


def _secret_keys() -> list[str]:
    fallbacks = getattr(django_settings, "SECRET_KEY_FALLBACKS", None) or ()
    return [str(key) for key in (getattr(django_settings, "SECRET_KEY", ""), *fallbacks)]


def _kit() -> tuple[WebKit, bool]:
    raw = getattr(django_settings, "BACKENDKIT", None)
    return kit_from_config(raw, name="settings.BACKENDKIT", secret_keys=_secret_keys)


_PIPELINE = LazyPipeline(_kit, offload=_offload)


def current_pipeline() -> Pipeline:
    """The pipeline of [`current_kit`][backendkit.adapters.django.current_kit]."""
    return _PIPELINE.get()


def current_kit() -> WebKit:
    """The process's kit, built from ``settings.BACKENDKIT`` on first use (a
    ``ConfigurationError`` for an invalid value there or in the environment)."""
    return _PIPELINE.get().kit


def reset_config() -> None:
    """Forget the kit: the next use rebuilds it (a kit the adapter built is closed, one
    handed in through ``KIT`` is left to its owner). ``override_settings`` calls it."""
    _PIPELINE.reset()


def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in _WATCHED:
        reset_config()


setting_changed.connect(_on_setting_changed, dispatch_uid="backendkit.adapters.django")
# Django has no shutdown signal: the kit the adapter built is closed when the worker exits.
atexit.register(reset_config)
