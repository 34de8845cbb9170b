"""Servers' own standard library records, rendered clean by ``configure_logging``.

uvicorn logs its startup lines (and its access lines) with
``extra={"color_message": ...}``: a copy of the message with ANSI colour codes, for its
own formatter. Through backendkit's pipeline that copy would be one more field on every
line, escape codes and all. Werkzeug colours the status of its request lines when it
writes to a terminal, and a formatter that ran before ours (pytest's, another handler's)
leaves a ``message`` attribute that repeats the event. This processor drops the colour
copy and the repeated message and strips escape sequences from what remains, so a
server's record reads like any other line. The server is never imported: the fields are
recognised by name.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["ServerAccessFilter", "clean_server_records"]

# ANSI escape sequences: CSI (colours, cursor moves: ESC [ ... final byte) and the other
# two-byte ESC sequences. A log line is no place for terminal control.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# Fields servers attach for their own formatters only.
_FORMATTER_ONLY = ("color_message",)


def _plain(text: str) -> str:
    return _ESCAPES.sub("", text) if "\x1b" in text else text


def clean_server_records(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor for standard library records: no colour copies or escape codes.

    Drops ``color_message`` (uvicorn's coloured copy of the message), strips ANSI escape
    sequences from ``event``, and drops ``message`` when it only repeats the event.
    """
    for key in _FORMATTER_ONLY:
        event_dict.pop(key, None)
    event = event_dict.get("event")
    if isinstance(event, str):
        event = event_dict["event"] = _plain(event)
    message = event_dict.get("message")
    if isinstance(message, str) and _plain(message) == event:
        del event_dict["message"]
    return event_dict


# Loggers whose every record is one request line.
_ACCESS_LOGGERS = frozenset({"uvicorn.access", "gunicorn.access"})
# werkzeug's development server: "127.0.0.1 - - [06/Dec/2026 02:15:34] \"GET / HTTP/1.1\" 200 -"
# (its start-up lines, "Running on http://...", do not look like this).
_WERKZEUG_REQUEST = re.compile(r'^\S+ - - \[[^\]]*\] "')


class ServerAccessFilter(logging.Filter):
    """Drops the servers' own per-request lines: backendkit's access log already has one.

    Every adapter writes one ``request_completed`` event per request (request id, user,
    status, duration), so a server's own request line would log each request twice. Left
    out: every record of ``uvicorn.access`` and ``gunicorn.access``, werkzeug's request
    lines (``flask run``) and runserver's (``django.server`` records carrying a
    ``status_code``). The servers' other records (start-up, errors) pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """``False`` for a server's request line, ``True`` for anything else."""
        name = record.name
        if name in _ACCESS_LOGGERS:
            return False
        if name == "django.server":
            return not hasattr(record, "status_code")
        if name == "werkzeug" and isinstance(record.msg, str):
            return _WERKZEUG_REQUEST.match(record.getMessage()) is None
        return True
