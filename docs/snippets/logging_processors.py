import io
import json
import logging
from collections.abc import MutableMapping
from typing import Any

import structlog

from backendkit.logging import Processor, configure_logging, get_logger

EventDict = MutableMapping[str, Any]


def add_deployment(_logger: Any, _method_name: str, event_dict: EventDict) -> EventDict:
    """Every line says which deployment wrote it."""
    event_dict["region"] = "eu-west-1"
    event_dict["version"] = "2026.12.1"
    return event_dict


def drop_health_checks(_logger: Any, _method_name: str, event_dict: EventDict) -> EventDict:
    """The load balancer's probes are not worth a line each."""
    if event_dict["event"] == "request_completed" and event_dict.get("path") == "/health":
        raise structlog.DropEvent
    return event_dict


def add_client(_logger: Any, _method_name: str, event_dict: EventDict) -> EventDict:
    """Runs before redaction: a secret it adds by mistake is masked like any other."""
    event_dict["client"] = {"name": "mobile", "api_key": "k-123"}
    return event_dict


processors: list[Processor] = [add_deployment, drop_health_checks, add_client]
stream = io.StringIO()
configure_logging(fmt="json", stream=stream, processors=processors)

get_logger("app.orders").info("order_placed", order_id=7)
logging.getLogger("sqlalchemy.engine").warning("slow query on %s", "orders")
get_logger("backendkit.access").info("request_completed", path="/health", status=200)

structlog_line, stdlib_line = (json.loads(line) for line in stream.getvalue().splitlines())
assert structlog_line["region"] == stdlib_line["region"] == "eu-west-1"
assert stdlib_line["logger"] == "sqlalchemy.engine"
assert structlog_line["client"] == {"name": "mobile", "api_key": "[REDACTED]"}
