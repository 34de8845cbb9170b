"""Helpers for testing applications built on backendkit.

Everything here is public API meant for *your* test suite: a clock you move by hand, log
capture that sees exactly what the production pipeline would emit, and (added by other
modules) in-memory stores, a token factory and a fast password hasher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backendkit.testing._clock import FakeClock
from backendkit.testing._logs import capture_logs

if TYPE_CHECKING:
    from backendkit.testing._auth import TestingPasswordHasher, TokenFactory

__all__ = [
    "FakeClock",
    "TestingPasswordHasher",
    "TokenFactory",
    "capture_logs",
]


# Names whose module needs an optional extra are imported on first use, so the rest of
# backendkit.testing works without that extra.
_LAZY = {
    "TestingPasswordHasher": "backendkit.testing._auth",
    "TokenFactory": "backendkit.testing._auth",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
