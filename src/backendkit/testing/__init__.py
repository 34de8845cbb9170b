"""Helpers for testing applications built on backendkit.

Everything here is public API meant for *your* test suite: a clock you move by hand, log
capture that sees exactly what the production pipeline would emit, and, with the ``auth``
extra, a token factory and a fast password hasher (imported on first use, so the rest works
without that extra). In-memory backends live beside the real ones: ``MemoryTokenStore`` in
``backendkit.auth``, ``memory://`` for the cache and the rate limiter.
"""

# A private alias keeps the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit.testing._clock import FakeClock
from backendkit.testing._logs import capture_logs

if _typing.TYPE_CHECKING:
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
