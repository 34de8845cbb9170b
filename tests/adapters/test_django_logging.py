"""Django's own loggers (``django.request``, ``django.server``) through backendkit's pipeline.

Django logs every 4xx and 5xx on ``django.request`` with the request object attached (its
repr is the full URL, query string included), and ``runserver`` logs each request line on
``django.server``. Query strings carry cursors, search terms and email filters: the lines
that ``configure_logging`` renders keep the method, path and status, never the query.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from django.core.servers.basehttp import WSGIRequestHandler
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit

from backendkit.logging import clear_request_context, configure_logging

URLCONF = "tests.adapters._django_test_urls"
QUERY = {"q": "secret-value", "cursor": "abc-cursor-value", "email": "ann@example.com"}
HIDDEN = ("secret-value", "abc-cursor-value", "ann@example.com", "ann%40example.com")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """backendkit's JSON logging into a buffer, as the example sets it up.

    The example sets ``LOGGING_CONFIG = None``, so ``django.server`` has no handler of its
    own and its records reach the root logger (the test project keeps Django's default
    logging, whose ``django.server`` handler does not propagate). Everything is restored
    after.
    """
    old_config = structlog.get_config()
    root = logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    server = logging.getLogger("django.server")
    old_server = (list(server.handlers), server.propagate, server.level)
    server.handlers[:], server.propagate, server.level = [], True, logging.NOTSET
    stream = io.StringIO()
    # The servers' request lines are kept here (by default backendkit's access log
    # replaces them): what is tested is that they lose their query strings.
    configure_logging(fmt="json", stream=stream, server_access_log=True)
    yield stream
    clear_request_context()
    structlog.configure(**old_config)
    root.handlers[:] = old_handlers
    root.setLevel(old_level)
    server.handlers[:], server.propagate, server.level = old_server


def _records(stream: io.StringIO, logger: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if line.get("logger") == logger]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/nowhere", 404, "Not Found: /api/nowhere"),
        ("/html/nowhere", 404, "Not Found: /html/nowhere"),
        ("/api/model-invalid", 400, "Bad Request: /api/model-invalid"),
    ],
)
def test_django_request_log_keeps_the_path_and_drops_the_query(
    log_lines: io.StringIO, path: str, status: int, message: str
) -> None:
    use_kit(make_kit())
    response = client_for(URLCONF).get(path, QUERY)
    assert response.status_code == status
    text = log_lines.getvalue()
    for value in HIDDEN:
        assert value not in text
    # The valid twin: the line is still there, with what an operator needs.
    (record,) = _records(log_lines, "django.request")
    assert record["event"] == message
    assert record["status_code"] == status
    assert record["level"] == "warning"
    assert record["request"] == f"GET {path}"


def test_django_request_log_without_a_query_is_unchanged(log_lines: io.StringIO) -> None:
    use_kit(make_kit())
    assert client_for(URLCONF).get("/api/nowhere").status_code == 404
    (record,) = _records(log_lines, "django.request")
    assert (record["event"], record["request"]) == ("Not Found: /api/nowhere", "GET /api/nowhere")


def _runserver_logs(requestline: str, status: str) -> None:
    """What ``runserver`` logs for one request (Django's own ``log_message``)."""
    handler = SimpleNamespace(request=None, log_date_time_string=lambda: "06/Dec/2026 02:00:00")
    WSGIRequestHandler.log_message(handler, '"%s" %s %s', requestline, status, "179")


def test_django_server_request_line_drops_the_query(log_lines: io.StringIO) -> None:
    _runserver_logs("GET /api/v1/users?q=secret-value&cursor=abc-cursor-value HTTP/1.1", "404")
    text = log_lines.getvalue()
    for value in HIDDEN:
        assert value not in text
    (record,) = _records(log_lines, "django.server")
    assert record["event"] == '"GET /api/v1/users HTTP/1.1" 404 179'
    assert record["status_code"] == 404


def test_django_server_request_line_without_a_query_is_unchanged(log_lines: io.StringIO) -> None:
    _runserver_logs("GET /api/v1/users HTTP/1.1", "200")
    (record,) = _records(log_lines, "django.server")
    assert record["event"] == '"GET /api/v1/users HTTP/1.1" 200 179'


def test_django_server_query_holding_a_quote_is_dropped_whole(log_lines: io.StringIO) -> None:
    _runserver_logs('GET /api/v1/users?q=a"b-secret-value HTTP/1.1', "404")
    (record,) = _records(log_lines, "django.server")
    assert record["event"] == '"GET /api/v1/users HTTP/1.1" 404 179'


def test_django_server_bad_request_syntax_drops_the_query(log_lines: io.StringIO) -> None:
    # BaseHTTPRequestHandler.send_error logs the raw request line it could not parse.
    handler = SimpleNamespace(request=None, log_date_time_string=lambda: "06/Dec/2026 02:00:00")
    WSGIRequestHandler.log_message(
        handler, "code %d, message %s", 400, "Bad request syntax ('GET /x?q=secret-value')"
    )
    (record,) = _records(log_lines, "django.server")
    assert record["event"] == "code 400, message Bad request syntax ('GET /x')"


# The same rule for the request lines of the other servers the adapters run under, when
# their loggers propagate to the root logger that configure_logging sets up.
@pytest.mark.parametrize(
    ("logger", "fmt", "args", "expected"),
    [
        (
            "werkzeug",
            '%s - - [%s] "%s" %s %s',
            ("127.0.0.1", "06/Dec/2026", "GET /api/v1/users?q=secret-value HTTP/1.1", "200", "-"),
            '127.0.0.1 - - [06/Dec/2026] "GET /api/v1/users HTTP/1.1" 200 -',
        ),
        (
            "uvicorn.access",
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", "/api/v1/users?cursor=abc-cursor-value", "1.1", 200),
            '127.0.0.1:5000 - "GET /api/v1/users HTTP/1.1" 200',
        ),
        (
            "gunicorn.access",
            '%s "%s" %s "%s"',
            (
                "127.0.0.1",
                "GET /api/v1/users?email=ann@example.com HTTP/1.1",
                "200",
                "https://app.example/list?q=secret-value",
            ),
            '127.0.0.1 "GET /api/v1/users HTTP/1.1" 200 "https://app.example/list"',
        ),
    ],
)
def test_other_servers_request_lines_drop_the_query(
    log_lines: io.StringIO, logger: str, fmt: str, args: tuple[Any, ...], expected: str
) -> None:
    target = logging.getLogger(logger)
    saved = (list(target.handlers), target.propagate, target.level)
    target.handlers[:], target.propagate, target.level = [], True, logging.NOTSET
    try:
        target.info(fmt, *args)
    finally:
        target.handlers[:], target.propagate, target.level = saved
    (record,) = _records(log_lines, logger)
    assert record["event"] == expected
    for value in HIDDEN:
        assert value not in log_lines.getvalue()


def test_an_unrelated_logger_keeps_its_question_marks(log_lines: io.StringIO) -> None:
    """Only the request-line loggers are rewritten: an application's message is its own."""
    logging.getLogger("myapp").warning("retrying /jobs?id=7 later?")
    (record,) = _records(log_lines, "myapp")
    assert record["event"] == "retrying /jobs?id=7 later?"
