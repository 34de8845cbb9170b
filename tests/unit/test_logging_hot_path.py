"""The access log's hot path writes what structlog's own path would, and falls back to it."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
import structlog

from backendkit.logging import (
    _pipeline,
    _redact,
    configure_logging,
    get_logger,
    new_request_id,
    request_context,
)
from backendkit.logging._config import last_configuration
from backendkit.logging._hot import HotLogger
from backendkit.logging._pipeline import UtcTimestamper
from backendkit.logging._redact import REDACTED, is_sensitive_key, redact_processor
from backendkit.testing import capture_logs

FIELDS: dict[str, Any] = {
    "method": "GET",
    "path": "/users",
    "status": 200,
    "duration_ms": 1.25,
    "user_id": None,
    "request_id": "r-1",
}


pytestmark = pytest.mark.usefixtures("restore_logging")


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def _without_timestamp(line: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", event.pop("timestamp"))
    return event


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_hot_path_line_equals_the_structlog_line(fmt: str) -> None:
    """Same fields, order, context, redaction and rendering as get_logger(name).info."""
    stream = io.StringIO()
    configure_logging(fmt=fmt, stream=stream)  # type: ignore[arg-type]
    structlog.contextvars.bind_contextvars(deployment="blue")
    fields = dict(FIELDS, token="s3cret", link="redis://:pw@cache:6379/0")
    with request_context(request_id="r-1", user_id=7, method="GET", path="/users"):
        get_logger("backendkit.access").info("request_completed", **fields)
        HotLogger("backendkit.access").info("request_completed", **fields)
    slow, fast = _lines(stream)
    assert "s3cret" not in fast
    assert ":pw@" not in fast
    if fmt == "json":
        assert list(json.loads(fast)) == list(json.loads(slow))  # key order too
        assert _without_timestamp(fast) == _without_timestamp(slow)
        assert _without_timestamp(fast)["deployment"] == "blue"
    else:
        stamp = re.compile(r"^\S+ ")
        assert stamp.sub("", fast) == stamp.sub("", slow)


def test_hot_path_respects_the_level() -> None:
    """At WARNING the access line is dropped, as structlog's filtering logger would."""
    stream = io.StringIO()
    configure_logging(fmt="json", level="WARNING", stream=stream)
    HotLogger("backendkit.access").info("request_completed", **FIELDS)
    get_logger("backendkit.access").warning("kept")
    assert [json.loads(line)["event"] for line in _lines(stream)] == ["kept"]


@pytest.mark.parametrize(("level", "drops"), [("WARNING", True), ("INFO", False)])
def test_drops_info_says_whether_the_line_would_be_dropped(level: str, drops: bool) -> None:
    """Above INFO under configure_logging's configuration the line is dropped unseen (and
    the caller may skip building it); at INFO it is written (the valid twin)."""
    stream = io.StringIO()
    configure_logging(fmt="json", level=level, stream=stream)
    hot = HotLogger("backendkit.access")
    assert hot.drops_info() is drops
    hot.info("request_completed", **FIELDS)
    assert len(_lines(stream)) == (0 if drops else 1)


def test_drops_info_leaves_other_configurations_their_own_filtering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under capture_logs or without configure_logging nothing is decided for the caller."""
    configure_logging(fmt="json", level="WARNING", stream=io.StringIO())
    hot = HotLogger("backendkit.access")
    with capture_logs() as logs:
        assert hot.drops_info() is False
        hot.info("request_completed", **FIELDS)
    assert [entry["event"] for entry in logs] == ["request_completed"]
    monkeypatch.setattr(last_configuration, "installed", None)
    assert hot.drops_info() is False


def test_hot_path_follows_reconfiguration() -> None:
    """A second configure_logging (new stream, new format) takes effect at once."""
    hot = HotLogger("backendkit.access")
    first, second = io.StringIO(), io.StringIO()
    configure_logging(fmt="json", stream=first)
    hot.info("request_completed", **FIELDS)
    configure_logging(fmt="console", stream=second)
    hot.info("request_completed", **FIELDS)
    assert len(_lines(first)) == 1
    assert len(_lines(second)) == 1
    assert "request_completed" in second.getvalue()
    assert not second.getvalue().startswith("{")


def test_hot_path_is_captured_by_capture_logs() -> None:
    """Under capture_logs (and after it) events go where the configuration says."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    hot = HotLogger("backendkit.access")
    with capture_logs() as logs:
        hot.info("request_completed", **FIELDS)
    assert [entry["event"] for entry in logs] == ["request_completed"]
    assert stream.getvalue() == ""
    hot.info("request_completed", **FIELDS)
    assert len(_lines(stream)) == 1


def test_hot_path_uses_an_application_configuration() -> None:
    """Under structlog configured by the application, its processors and output are used."""
    seen: list[dict[str, Any]] = []

    def keep(_logger: Any, _method: str, event_dict: Any) -> Any:
        seen.append(dict(event_dict))
        raise structlog.DropEvent

    configure_logging(fmt="json", stream=io.StringIO())
    structlog.configure(processors=[keep])
    hot = HotLogger("backendkit.access")
    hot.info("request_completed", **FIELDS)
    hot.info("request_completed", **FIELDS)  # the second use reuses the assembled logger
    assert [entry["event"] for entry in seen] == ["request_completed"] * 2


def test_hot_path_uses_structlog_when_configure_logging_never_ran(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without backendkit's configuration there is nothing to recognise: plain structlog."""
    monkeypatch.setattr(last_configuration, "installed", None)
    with capture_logs() as logs:
        HotLogger("backendkit.access").info("request_completed", **FIELDS)
    assert logs[0]["status"] == 200


# --- the pieces ---------------------------------------------------------------------


def test_timestamper_rounds_to_the_microsecond(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixed width, UTC, rounded like datetime (a whole second shows .000000)."""
    stamper = UtcTimestamper()
    for now, expected in [
        (1_700_000_000.0, "2023-11-14T22:13:20.000000Z"),
        (1_700_000_000.25, "2023-11-14T22:13:20.250000Z"),
        (1_700_000_000.9999996, "2023-11-14T22:13:21.000000Z"),
        (1_700_000_061.000123, "2023-11-14T22:14:21.000123Z"),
    ]:
        monkeypatch.setattr(_pipeline.time, "time", lambda now=now: now)
        assert stamper(None, "info", {})["timestamp"] == expected


def test_redact_processor_masks_in_place_and_copies_containers() -> None:
    """Top-level values are replaced in the event; nested ones never modify the caller's."""
    headers = {"Authorization": "Bearer abc", "Accept": "*/*"}
    pairs = [("cookie", "sid=1")]
    event = {
        "event": "x",
        "password": "hunter2",
        "url": "postgresql://app:pw@db/app",
        "plain": "no scheme here",
        "count": 3,
        "ratio": 0.5,
        "ok": True,
        "none": None,
        "headers": headers,
        "pairs": pairs,
    }
    out = redact_processor(None, "info", event)
    assert out is event
    assert out["password"] == REDACTED
    assert out["url"] == f"postgresql://app:{REDACTED}@db/app"
    assert (out["plain"], out["count"], out["ratio"], out["ok"], out["none"]) == (
        "no scheme here",
        3,
        0.5,
        True,
        None,
    )
    assert out["headers"] == {"Authorization": REDACTED, "Accept": "*/*"}
    assert out["pairs"] == [("cookie", REDACTED)]
    assert headers["Authorization"] == "Bearer abc"  # the caller's dict is untouched
    assert pairs == [("cookie", "sid=1")]


def test_sensitive_key_verdicts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers are cached for short keys while there is room; long keys are checked each time."""
    monkeypatch.setattr(_redact, "_verdicts", {})
    assert is_sensitive_key("api_key_" + "x" * 100)
    assert not is_sensitive_key("y" * 100)
    assert _redact._verdicts == {}
    assert is_sensitive_key("X-Api-Key")
    assert not is_sensitive_key("user")
    assert _redact._verdicts == {"X-Api-Key": True, "user": False}
    monkeypatch.setattr(_redact, "_MAX_CACHED_KEYS", 2)
    assert is_sensitive_key(b"Set-Cookie")
    assert not is_sensitive_key(42)
    assert len(_redact._verdicts) == 2


def test_new_request_ids_are_random_hex() -> None:
    """32 lower-case hex characters, never repeated."""
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)


def test_stack_info_and_exceptions_still_render() -> None:
    """The fused pipeline keeps the renderers that act only on request."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    log = get_logger("app")
    log.info("with_stack", stack_info=True)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("failed")
    stacked, failed = (json.loads(line) for line in _lines(stream))
    assert "stack_info" not in stacked
    assert "test_stack_info_and_exceptions_still_render" in stacked["stack"]
    assert failed["level"] == "error"
    assert "RuntimeError: boom" in failed["exception"]


def test_output_loggers_are_cached_per_name_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """One output logger per name; past the bound new names still log, uncached."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    factory = structlog.get_config()["logger_factory"]
    assert factory("a") is factory("a")
    monkeypatch.setattr(_pipeline, "MAX_CACHED_LOGGERS", 1)
    assert factory("b") is not factory("b")
    get_logger("b").info("still_logged")
    assert json.loads(_lines(stream)[-1])["logger"] == "b"
