"""OpenTelemetry traces: a server span per request, and spans for Redis, SQL and bcrypt.

``WebKit.from_settings(settings, tracing=Tracing())`` traces every request through the
one pipeline: a server span named by the route template (``GET /api/v1/users/{user_id}``)
with ``http.route``, ``http.request.method``, ``http.response.status_code`` and the
request id, continuing an incoming W3C ``traceparent``. The kit's Redis connectors get a
span per command; ``watch_engine`` and ``watch_passwords`` add SQL statements and bcrypt.
Once this package is imported, every log line made inside a recording span (ours, or
an official instrumentation's) carries its ``trace_id`` and ``span_id``.

Needs the ``otel`` extra: ``pip install 'backendkit[otel]'`` (opentelemetry-api; an SDK
and an exporter are the application's choice).
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("opentelemetry.trace", "otel")

from backendkit.logging._trace import use_trace_ids as _use_trace_ids
from backendkit.tracing._logs import current_trace_ids as _current_trace_ids
from backendkit.tracing._requests import OTHER_METHOD
from backendkit.tracing._tracing import INSTRUMENTATION_NAME, Tracing

# From now on, log lines made inside a recording span carry its ids.
_use_trace_ids(_current_trace_ids)

__all__ = ["INSTRUMENTATION_NAME", "OTHER_METHOD", "Tracing"]
