"""gunicorn settings of the multiprocess test: the two hooks the metrics guide documents,
and the master serving every worker's metrics on a port of its own when
``METRICS_MASTER_PORT`` is set (the guide's ``when_ready``)."""

import os
from typing import Any

from backendkit.metrics import child_exit, on_starting, serve_metrics

__all__ = ["child_exit", "on_starting", "when_ready"]


def when_ready(server: Any) -> None:
    """In the master, once it is ready: the metrics port, reading every worker's files."""
    port = os.environ.get("METRICS_MASTER_PORT")
    if port:
        serve_metrics(int(port), "127.0.0.1")
