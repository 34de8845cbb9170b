"""A framework's settings dict (``settings.BACKENDKIT``) -> a [`WebKit`][backendkit.web.WebKit].

The keys are any ``Settings`` field in any case (over the ``BACKENDKIT_*`` variables), plus
``API_PREFIXES`` (the paths that get the envelope and the default limit) and ``KIT`` (a
``WebKit``, the dotted path of one, or of a factory; it brings its own settings).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.web import DEFAULT_API_PREFIXES, WebKit

__all__ = ["kit_from_config"]

_ADAPTER_KEYS = frozenset({"KIT", "API_PREFIXES"})


def kit_from_config(
    raw: Any, *, name: str, secret_keys: Callable[[], Sequence[str]] = tuple
) -> tuple[WebKit, bool]:
    """The kit ``raw`` describes, and whether it was built here (its builder closes it; a
    kit handed in through ``KIT`` is left to its owner).

    Args:
        raw: the dict (``None``: empty).
        name: how messages name it (``settings.BACKENDKIT``; its last part names a key).
        secret_keys: the framework's own secret keys (first signs), used when neither
            ``raw`` nor the environment has one; called only then.

    Raises:
        ConfigurationError: not a dict, an unknown key, a value that does not parse, a
            ``KIT`` with settings beside it or that is no ``WebKit``.
        ImportError: a ``KIT`` path that does not import.
    """
    short = name.rpartition(".")[2]
    if not isinstance(raw or {}, Mapping):
        raise ConfigurationError(f"{name} must be a dict")
    config = {str(key).upper(): value for key, value in (raw or {}).items()}
    prefixes = _prefixes(config["API_PREFIXES"], short) if "API_PREFIXES" in config else None
    if "KIT" not in config:
        settings = _settings(config, name, secret_keys)
        return WebKit.from_settings(settings, api_prefixes=prefixes or DEFAULT_API_PREFIXES), True
    extra = sorted(set(config) - _ADAPTER_KEYS)
    if extra:
        remove = ", ".join(extra)
        raise ConfigurationError(f"{short}['KIT'] brings its own settings; remove {remove}")
    kit = config["KIT"]
    kit = _imported(kit) if isinstance(kit, str) else kit
    kit = kit() if callable(kit) and not isinstance(kit, WebKit) else kit
    if not isinstance(kit, WebKit):
        raise ConfigurationError(f"{short}['KIT'] must be a WebKit or build one")
    # API_PREFIXES wins over the kit's own: one scope for the envelope and the default limit.
    return (kit if prefixes is None else dataclasses.replace(kit, api_prefixes=prefixes)), False


def _prefixes(value: Any, short: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ConfigurationError(f"{short}['API_PREFIXES'] must be a list of path prefixes")
    prefixes = tuple(str(p) for p in value)
    if not all(p.startswith("/") for p in prefixes):
        raise ConfigurationError(f"{short}['API_PREFIXES'] entries must start with '/'")
    return prefixes


def _settings(
    config: Mapping[str, Any], name: str, secret_keys: Callable[[], Sequence[str]]
) -> Settings:
    overrides = {key.lower(): value for key, value in config.items() if key not in _ADAPTER_KEYS}
    unknown = sorted(key.upper() for key in set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError(f"unknown keys in {name}: " + ", ".join(unknown))
    if "secret_key" not in overrides and not os.environ.get(ENV_PREFIX + "SECRET_KEY"):
        keys = [str(key) for key in secret_keys() if key]
        if keys:
            overrides["secret_key"] = keys
    return Settings.from_env(**overrides)


def _imported(path: str) -> Any:
    module, _, attribute = path.rpartition(".")
    if not module:
        raise ImportError(f"{path!r} is not a dotted path")
    try:
        return getattr(importlib.import_module(module), attribute)
    except AttributeError:
        raise ImportError(f"module {module!r} has no {attribute!r}") from None
