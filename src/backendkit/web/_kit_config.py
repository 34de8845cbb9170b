"""A framework's settings dict (``settings.BACKENDKIT``) -> a [`WebKit`][backendkit.web.WebKit],
and the process's pipeline over it, built on first use and rebuilt when the settings change.

The keys are any ``Settings`` field in any case (over the ``BACKENDKIT_*`` variables), plus
``API_PREFIXES`` (the paths that get the envelope and the default limit) and ``KIT`` (a
``WebKit``, the dotted path of one, or of a factory; it brings its own settings).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from backendkit.errors import ConfigurationError
from backendkit.settings import ENV_PREFIX, Settings
from backendkit.web._kit import DEFAULT_API_PREFIXES, WebKit
from backendkit.web._pipeline import Offload, Pipeline

__all__ = ["LazyPipeline", "kit_from_config"]

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


class LazyPipeline:
    """The process's [`Pipeline`][backendkit.web.Pipeline] over the kit ``build`` returns
    (with whether it owns it, as ``kit_from_config`` does), built once on first use, from
    any thread; ``reset`` forgets it, closing a kit it owns (one handed in is its owner's).

    Example:
        >>> from backendkit.settings import Settings
        >>> settings = Settings(env="test", secret_key="a-secret-of-16-bytes-or-more")
        >>> lazy = LazyPipeline(lambda: (WebKit.from_settings(settings), True))
        >>> lazy.get() is lazy.get()
        True
        >>> lazy.reset()
    """

    __slots__ = ("_build", "_lock", "_offload", "_owned", "_pipeline")

    def __init__(
        self, build: Callable[[], tuple[WebKit, bool]], *, offload: Offload[Any] | None = None
    ) -> None:
        self._build, self._offload, self._lock = build, offload, threading.Lock()
        self._pipeline: Pipeline | None = None
        self._owned = False

    def get(self) -> Pipeline:
        """The pipeline, built now if it is not yet (``build``'s errors propagate)."""
        pipeline = self._pipeline
        if pipeline is None:
            with self._lock:
                if self._pipeline is None:
                    kit, self._owned = self._build()
                    self._pipeline = Pipeline(kit, offload=self._offload)
                pipeline = self._pipeline
        return pipeline

    def reset(self) -> None:
        """Forget the pipeline: the next ``get`` builds another."""
        with self._lock:
            old, owned = self._pipeline, self._owned
            self._pipeline, self._owned = None, False
        if old is not None and owned:
            old.kit.close()
