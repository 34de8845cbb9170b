"""Query strings out of the standard library records that carry request URLs.

Frameworks log requests on their own loggers: Django's ``django.request`` (every 4xx and
5xx) and ``django.security.*`` attach the request object, whose repr is the full URL, and
development servers (``runserver``'s ``django.server``, Werkzeug's) log each request line.
Query strings carry cursors, search terms and email filters, so in the lines
``configure_logging`` renders, a request object becomes ``"GET /path"`` and a request line
keeps its path and drops its query. The framework is never imported: records are
recognised by their logger's name and the shape of their fields.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["strip_request_urls"]

# Loggers whose message is (or contains) an HTTP request line: the development and access
# logs of the servers backendkit's adapters run under.
_REQUEST_LINE_LOGGERS = frozenset(
    {"django.server", "werkzeug", "uvicorn.access", "gunicorn.access"}
)
# runserver's exact format, '"%s" %s %s' % (requestline, status, size): the target runs to
# the HTTP version, so a quote inside the query cannot end the match early.
_RUNSERVER_LINE = re.compile(
    r'^"(?P<method>[^\s"]+) (?P<target>.*) (?P<version>HTTP/[0-9.]+)" (?P<tail>\S+ \S+)$',
    re.DOTALL,
)
# Anywhere else, a path followed by a query: the query ends at whitespace or a quote.
_PATH_QUERY = re.compile(r"(?P<path>/[^\s?'\"]*)\?[^\s'\"]*")


def _without_query(text: str) -> str:
    match = _RUNSERVER_LINE.match(text)
    if match is not None:
        target = match["target"].split("?", 1)[0]
        return f'"{match["method"]} {target} {match["version"]}" {match["tail"]}'
    return _PATH_QUERY.sub(r"\g<path>", text)


def _request_summary(request: Any) -> str | None:
    # Django's HttpRequest and Werkzeug's Request: ``path`` never includes the query.
    method = getattr(request, "method", None)
    path = getattr(request, "path", None)
    if isinstance(method, str) and isinstance(path, str):
        return f"{method} {path}"
    return None


def strip_request_urls(_logger: Any, _method: str, event_dict: Any) -> Any:
    """structlog processor for standard library records: request URLs without queries.

    A ``request`` field holding a request object (Django's loggers attach one) becomes
    ``"METHOD /path"``; on the servers' request-line loggers the ``event`` (and a
    ``message`` copied by another formatter) keeps each path and drops its query.
    """
    request = event_dict.get("request")
    if request is not None and not isinstance(request, str | int | float | bool):
        summary = _request_summary(request)
        if summary is not None:
            event_dict["request"] = summary
    if event_dict.get("logger") in _REQUEST_LINE_LOGGERS:
        for key in ("event", "message"):
            value = event_dict.get(key)
            if isinstance(value, str) and "?" in value:
                event_dict[key] = _without_query(value)
    return event_dict
