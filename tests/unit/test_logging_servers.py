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
