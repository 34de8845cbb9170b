"""Prometheus metrics for requests, rate limits, the cache, Redis and SQL pools.

``WebKit.from_settings(settings, metrics=Metrics())`` measures every request through the
one pipeline (by method, route template and status; duration; in flight; errors by code)
and watches the kit's limiters, cache and Redis connectors; ``watch_*`` adds others, in a
web app or not. ``MetricsEndpoint`` is the ``/metrics`` answer the adapters serve
(``add_metrics_route``, ``metrics_view``), ``serve_metrics`` a port of its own; the
multiprocess helpers and gunicorn hooks make counts from every worker add up.

Needs the ``metrics`` extra: ``pip install 'backendkit[metrics]'``.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("prometheus_client", "metrics")

from backendkit.metrics._components import CACHE_COUNTERS, StatsSource
from backendkit.metrics._exposition import MetricsEndpoint, exposition_registry, serve_metrics
from backendkit.metrics._labels import OTHER_METHOD, UNMATCHED_ROUTE
from backendkit.metrics._metrics import Metrics, multiprocess_dir
from backendkit.metrics._multiprocess import (
    child_exit,
    mark_process_dead,
    on_starting,
    prepare_multiprocess_dir,
)
from backendkit.metrics._requests import DEFAULT_BUCKETS
from backendkit.metrics._sql import STATEMENT_BUCKETS

__all__ = [
    "CACHE_COUNTERS",
    "DEFAULT_BUCKETS",
    "OTHER_METHOD",
    "STATEMENT_BUCKETS",
    "UNMATCHED_ROUTE",
    "Metrics",
    "MetricsEndpoint",
    "StatsSource",
    "child_exit",
    "exposition_registry",
    "mark_process_dead",
    "multiprocess_dir",
    "on_starting",
    "prepare_multiprocess_dir",
    "serve_metrics",
]
