"""The examples in the tracing modules' docstrings are correct."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "backendkit.tracing._logs",
    "backendkit.tracing._redis",
    "backendkit.tracing._sql",
    "backendkit.tracing._tracing",
    "backendkit.web._methods",
    "backendkit.web._observers",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    """Every >>> example in the module's docstrings runs and prints what it claims."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
