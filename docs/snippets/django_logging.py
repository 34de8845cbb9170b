"""Django's own logging configuration kept, its loggers routed to backendkit's pipeline.

Shown in docs/integrations/django.md (the ``logging`` section); run by the docs suite,
which checks that Django's own handlers are gone and that runserver's request line comes
out of backendkit's handler without its query string.
"""

from __future__ import annotations

import io
import json
import logging

import django
from django.conf import settings

from backendkit.logging import configure_logging

# --8<-- [start:logging]
# settings.py, when Django configures logging (LOGGING_CONFIG left at its default):
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {
        # No handlers of their own: records go to the root handler of configure_logging.
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": [], "propagate": True},
    },
}
# --8<-- [end:logging]

settings.configure(DEBUG=True, LOGGING=LOGGING)
django.setup()  # Django's default logging first, then LOGGING over it
lines = io.StringIO()
configure_logging(fmt="json", stream=lines)
# Django's own handlers are gone: nothing writes these records but backendkit's handler.
assert logging.getLogger("django").handlers == []
assert logging.getLogger("django.server").handlers == []
# What runserver logs for one request.
logging.getLogger("django.server").warning(
    '"%s" %s %s', "GET /api/v1/users?q=secret-value HTTP/1.1", "404", "179"
)
(record,) = [json.loads(line) for line in lines.getvalue().splitlines()]
assert record["event"] == '"GET /api/v1/users HTTP/1.1" 404 179'
assert record["logger"] == "django.server"
assert "secret-value" not in lines.getvalue()
