"""configure_logging(processors=...): the application's own processors on every event."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog

from backendkit.logging import (
    REDACTED,
    Processor,
    configure_logging,
    get_logger,
    request_context,
)
from backendkit.logging._hot import HotLogger
from backendkit.testing import capture_logs

pytestmark = pytest.mark.usefixtures("restore_logging")

EventDict = MutableMapping[str, Any]


def add_region(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    event_dict["region"] = "eu-west-1"
    return event_dict


def add_client_credentials(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    event_dict["api_token"] = "tok-123"
    event_dict["client"] = {"name": "mobile", "Authorization": "Bearer abc"}
    event_dict["upstream"] = "https://svc:pa55@api.example.com/v1"
    return event_dict


def _configure(*processors: Processor, fmt: str = "json") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(fmt=fmt, stream=stream, processors=list(processors))  # type: ignore[arg-type]
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _log_three_ways() -> None:
    """One structlog event, one stdlib record, one access-log line."""
    get_logger("app.orders").info("order_placed", order_id=7)
    logging.getLogger("sqlalchemy.engine").warning("slow query on %s", "orders")
    HotLogger("backendkit.access").info("request_completed", status=200, path="/orders")


def test_a_processor_adds_a_field_to_structlog_stdlib_and_access_lines() -> None:
    """The same processor runs for every kind of event; the rest of the line is unchanged."""
    stream = _configure(add_region)
    _log_three_ways()
    lines = _lines(stream)
    assert [line["event"] for line in lines] == [
        "order_placed",
        "slow query on orders",
        "request_completed",
    ]
    assert [line["region"] for line in lines] == ["eu-west-1"] * 3
    assert lines[0]["order_id"] == 7
    assert lines[1]["logger"] == "sqlalchemy.engine"


@pytest.mark.parametrize("processors", [None, []])
def test_without_processors_lines_have_no_extra_field(processors: list[Processor] | None) -> None:
    """The twin: no processor (None or an empty list), no field."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, processors=processors)
    _log_three_ways()
    lines = _lines(stream)
    assert len(lines) == 3
    assert all("region" not in line for line in lines)


def test_a_processor_works_with_the_console_renderer() -> None:
    """The field reaches the console line too, for structlog and stdlib events."""
    stream = _configure(add_region, fmt="console")
    get_logger("app").info("order_placed")
    logging.getLogger("lib").warning("slow")
    first, second = stream.getvalue().splitlines()
    assert "region=eu-west-1" in first
    assert "region=eu-west-1" in second


def test_processors_see_the_context_level_timestamp_and_logger_name() -> None:
    """They run after the context is merged and the standard fields are added, in order."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def first(_logger: Any, method: str, event_dict: EventDict) -> EventDict:
        seen.append((method, dict(event_dict)))
        event_dict["step"] = ["first"]
        return event_dict

    def second(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        event_dict["step"] = [*event_dict["step"], "second"]
        return event_dict

    stream = _configure(first, second)
    with request_context(request_id="r-1", user_id=7):
        get_logger("app").info("order_placed")
        logging.getLogger("lib").warning("slow")
    for method, fields in seen:
        assert fields["request_id"] == "r-1"
        assert fields["user_id"] == 7
        assert {"level", "timestamp", "logger"} <= fields.keys()
        assert method == fields["level"]
    assert [method for method, _ in seen] == ["info", "warning"]
    # The stdlib record's own bookkeeping is gone: both kinds look alike.
    assert "_record" not in seen[1][1]
    assert [line["step"] for line in _lines(stream)] == [["first", "second"]] * 2


def test_what_a_processor_adds_is_still_redacted() -> None:
    """Redaction runs after the user's processors: a secret they add never reaches a line."""
    stream = _configure(add_region, add_client_credentials)
    _log_three_ways()
    text = stream.getvalue()
    assert "tok-123" not in text
    assert "Bearer abc" not in text
    assert "pa55" not in text
    for line in _lines(stream):
        assert line["api_token"] == REDACTED
        assert line["client"] == {"name": "mobile", "Authorization": REDACTED}
        assert line["upstream"] == f"https://svc:{REDACTED}@api.example.com/v1"
        assert line["region"] == "eu-west-1"  # the harmless field passes through


def test_a_processor_may_drop_an_event() -> None:
    """structlog.DropEvent drops that event (structlog, stdlib or access line); others stay."""

    def drop_health_checks(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        if event_dict.get("path") == "/health" or event_dict["event"] == "noisy":
            raise structlog.DropEvent
        return event_dict

    stream = _configure(drop_health_checks)
    access = HotLogger("backendkit.access")
    access.info("request_completed", status=200, path="/health")
    access.info("request_completed", status=200, path="/orders")
    get_logger("app").info("noisy")
    get_logger("app").info("kept")
    logging.getLogger("lib").warning("noisy")
    logging.getLogger("lib").warning("kept too")
    assert [(line["event"], line.get("path")) for line in _lines(stream)] == [
        ("request_completed", "/orders"),
        ("kept", None),
        ("kept too", None),
    ]


@pytest.mark.parametrize(
    "processors",
    [
        [add_region, "not a function"],
        [add_region, None],
        "add_region",
        add_region,
        42,
    ],
    ids=["a-string-in-the-list", "none-in-the-list", "a-string", "a-bare-function", "a-number"],
)
def test_a_bad_processors_argument_is_refused_at_configure_time(processors: Any) -> None:
    """Not a list of callables: TypeError, and the previous configuration stays in place."""
    stream = _configure(add_region)
    with pytest.raises(TypeError, match="processors"):
        configure_logging(fmt="console", stream=io.StringIO(), processors=processors)
    get_logger("app").info("still_here")
    assert _lines(stream)[-1]["region"] == "eu-west-1"


def test_any_iterable_of_callables_is_accepted() -> None:
    """The twin: a tuple, a generator, a callable object are all fine."""

    class AddVersion:
        def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
            event_dict["version"] = "1.2.3"
            return event_dict

    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, processors=(p for p in (add_region, AddVersion())))
    get_logger("app").info("ready")
    (line,) = _lines(stream)
    assert (line["region"], line["version"]) == ("eu-west-1", "1.2.3")


def test_capture_logs_does_not_run_the_applications_processors() -> None:
    """capture_logs keeps its fields: context merge and redaction only."""
    _configure(add_region)
    with capture_logs() as logs:
        get_logger("app").info("order_placed")
    assert "region" not in logs[0]
