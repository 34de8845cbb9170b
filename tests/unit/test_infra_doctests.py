"""The examples in the docstrings of the foundation modules are correct."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "backendkit.errors",
    "backendkit.settings",
    "backendkit.clock",
    "backendkit.logging",
    "backendkit.logging._context",
    "backendkit.logging._redact",
    "backendkit.redis._breaker",
    "backendkit.redis._config",
    "backendkit.testing._clock",
    "backendkit.testing._logs",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """Every >>> example in the module's docstrings runs and prints what it claims."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
