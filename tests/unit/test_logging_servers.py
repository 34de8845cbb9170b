"""Servers' own records come out of the pipeline clean: no colour copies, no escape codes.

uvicorn logs its startup and request lines with ``extra={"color_message": ...}``, a copy
of the message with ANSI colour codes for its own formatter; Werkzeug colours the status
of its request lines when it writes to a terminal. Through ``configure_logging`` neither
the copy nor an escape code reaches a JSON or console line.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Literal

import pytest

from backendkit.logging import configure_logging

pytestmark = pytest.mark.usefixtures("restore_logging")

COLOURED = "Uvicorn running on \x1b[1m%s://%s:%d\x1b[0m (Press CTRL+C to quit)"
FORMATS: list[Literal["json", "console"]] = ["json", "console"]


def _output(
    fmt: Literal["json", "console"], logger: str, msg: str, *args: object, **extra: object
) -> str:
    stream = io.StringIO()
    configure_logging(fmt=fmt, stream=stream, level="INFO")
    logging.getLogger(logger).info(msg, *args, extra=extra)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_uvicorn_color_message_is_dropped(fmt: Literal["json", "console"]) -> None:
    """The startup line keeps its plain message; the coloured copy is gone."""
    text = _output(
        fmt,
        "uvicorn.error",
        "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)",
        "http",
        "127.0.0.1",
        8000,
        color_message=COLOURED,
    )
    assert "Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)" in text
    assert "color_message" not in text
    assert "\x1b" not in text
    assert "\\u001b" not in text
    assert len(text.splitlines()) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_escape_codes_in_a_server_message_are_stripped(fmt: Literal["json", "console"]) -> None:
    """A request line coloured by Werkzeug renders as plain text."""
    text = _output(fmt, "werkzeug", '127.0.0.1 - - "GET /x HTTP/1.1" \x1b[33m404\x1b[0m -')
    assert '"GET /x HTTP/1.1" 404 -' in text.replace('\\"', '"')
    assert "\x1b" not in text
    assert "\\u001b" not in text


def test_other_extra_fields_stay() -> None:
    """Valid twin: extra fields other than uvicorn's colour copy are still rendered."""
    text = _output("json", "uvicorn.error", "Started server process [%d]", 42, worker="w1")
    line = json.loads(text)
    assert line["event"] == "Started server process [42]"
    assert line["worker"] == "w1"
    assert line["logger"] == "uvicorn.error"


# --------------------------------------------------------------------------- one line per request

REQUEST_LINES: list[tuple[str, str, tuple[object, ...], dict[str, object]]] = [
    ("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", "/x", "1.1", 200), {}),
    ("gunicorn.access", '%s "%s" %s', ("127.0.0.1", "GET /x HTTP/1.1", "200"), {}),
    ("werkzeug", '%s - - [%s] "%s" %s %s', ("127.0.0.1", "06/Dec/2026", "GET /x", "200", "-"), {}),
    ("django.server", '"%s" %s %s', ("GET /x HTTP/1.1", "404", "179"), {"status_code": 404}),
]


def _emit(
    stream: io.StringIO, logger: str, msg: str, args: tuple[object, ...], **extra: object
) -> None:
    target = logging.getLogger(logger)
    saved = (list(target.handlers), target.propagate, target.level)
    # As under `flask run`, runserver with LOGGING_CONFIG = None, or a server whose
    # access logger propagates: the record reaches the root handler.
    target.handlers[:], target.propagate, target.level = [], True, logging.NOTSET
    try:
        target.info(msg, *args, extra=extra)
    finally:
        target.handlers[:], target.propagate, target.level = saved


@pytest.mark.parametrize(("logger", "msg", "args", "extra"), REQUEST_LINES)
def test_server_request_lines_are_dropped_by_default(
    logger: str, msg: str, args: tuple[object, ...], extra: dict[str, object]
) -> None:
    """backendkit's request_completed is the one line per request: the server's goes."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="INFO")
    _emit(stream, logger, msg, args, **extra)
    assert stream.getvalue() == ""


@pytest.mark.parametrize(("logger", "msg", "args", "extra"), REQUEST_LINES)
def test_server_request_lines_are_kept_when_asked(
    logger: str, msg: str, args: tuple[object, ...], extra: dict[str, object]
) -> None:
    """The twin: server_access_log=True keeps them (an app without a backendkit adapter)."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="INFO", server_access_log=True)
    _emit(stream, logger, msg, args, **extra)
    assert json.loads(stream.getvalue())["logger"] == logger


@pytest.mark.parametrize(
    ("logger", "msg", "args"),
    [
        ("werkzeug", " * Running on %s", ("http://127.0.0.1:5000",)),
        ("django.server", "Not a request line: %s", ("x",)),
        ("uvicorn.error", "Started server process [%d]", (42,)),
    ],
)
def test_the_servers_other_records_pass(logger: str, msg: str, args: tuple[object, ...]) -> None:
    """Start-up lines and errors are not request lines: they are written."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="INFO")
    _emit(stream, logger, msg, args)
    assert json.loads(stream.getvalue())["event"] == msg % args


def test_flask_run_logs_each_request_once() -> None:
    """werkzeug's development server (what `flask run` uses) and the Flask adapter: one line."""
    import threading

    import httpx
    from flask import Flask
    from werkzeug.serving import make_server

    from backendkit.adapters.flask import BackendKit
    from backendkit.responses import success
    from backendkit.settings import Settings
    from backendkit.web import WebKit

    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="INFO")
    app = Flask("one_line")
    BackendKit(app, kit=WebKit.from_settings(Settings(env="test")))
    app.get("/ping")(lambda: success({"ok": True}))
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/ping?q=1", timeout=10)
    finally:
        server.shutdown()
        thread.join(10)
    assert response.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    server_side = [line for line in lines if line.get("logger") != "httpx"]  # the client's
    mentions = [line for line in server_side if "/ping" in json.dumps(line)]
    assert [line["event"] for line in mentions] == ["request_completed"], lines
