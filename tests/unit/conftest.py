"""Fixtures shared by the unit tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from backendkit.logging import clear_request_context


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that reconfigure logging: restore structlog, its contextvars, the root logger."""
    old_config = structlog.get_config()
    root = logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    clear_request_context()
    yield
    clear_request_context()
    structlog.contextvars.clear_contextvars()
    structlog.configure(**old_config)
    root.handlers[:] = old_handlers
    root.setLevel(old_level)
