"""Import helpers for optional extras."""

from __future__ import annotations

import importlib
from types import ModuleType

from backendkit.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module!r} is not installed; install it with: pip install 'backendkit[{extra}]'"
        ) from exc
