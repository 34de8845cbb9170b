"""gunicorn settings for the Flask and Django examples with several workers and metrics:
``gunicorn -c examples/gunicorn_conf.py ...`` with ``PROMETHEUS_MULTIPROC_DIR`` set, so
``/metrics`` adds up every worker's counts (see examples/README.md)."""

import os

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Empty the directory before the workers start; mark each exited worker dead.
    from backendkit.metrics import child_exit, on_starting

    __all__ = ["child_exit", "on_starting"]
