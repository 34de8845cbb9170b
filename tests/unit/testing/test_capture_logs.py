"""capture_logs: events as the production pipeline sees them (context merged, redacted)."""

from __future__ import annotations

import pytest
import structlog

from backendkit.logging import REDACTED, get_logger, request_context
from backendkit.testing import capture_logs

_module_logger = get_logger("created.at.import")


def test_captures_events_with_level_and_fields() -> None:
    """Each event is a dict with event, log_level and its fields."""
    with capture_logs() as logs:
        get_logger("x").warning("cache_miss", key="k1")
        get_logger("x").debug("detail")
    assert logs == [
        {"event": "cache_miss", "key": "k1", "log_level": "warning"},
        {"event": "detail", "log_level": "debug"},
    ]


def test_captured_events_are_redacted_and_carry_context() -> None:
    """Unlike structlog's capture alone, secrets are masked and the request context merged."""
    with capture_logs() as logs, request_context(request_id="r1", user_id=3):
        get_logger("x").info("login", password="hunter2")
    assert logs[0]["password"] == REDACTED
    assert (logs[0]["request_id"], logs[0]["user_id"]) == ("r1", 3)


def test_loggers_created_at_import_time_are_captured() -> None:
    """A module-level logger (created before the capture) is captured too."""
    with capture_logs() as logs:
        _module_logger.error("from_module")
    assert [e["event"] for e in logs] == ["from_module"]


def test_configuration_is_restored_afterwards() -> None:
    """After the block structlog's processors are what they were."""
    before = list(structlog.get_config()["processors"])
    with capture_logs():
        pass
    assert structlog.get_config()["processors"] == before


def test_nothing_is_captured_outside_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    """Events after the block are not appended to the list."""
    with capture_logs() as logs:
        get_logger("x").info("inside")
    get_logger("x").info("outside")
    assert [e["event"] for e in logs] == ["inside"]
    capsys.readouterr()
