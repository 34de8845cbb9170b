"""Helpers for testing applications built on backendkit.

Everything here is public API meant for *your* test suite: a clock you move by hand, log
capture that sees exactly what the production pipeline would emit, and (added by other
modules) in-memory stores, a token factory and a fast password hasher.
"""

from __future__ import annotations

from backendkit.testing._clock import FakeClock

__all__ = [
    "FakeClock",
]
