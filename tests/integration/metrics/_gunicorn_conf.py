"""gunicorn settings of the multiprocess test: the two hooks the metrics guide documents."""

from backendkit.metrics import child_exit, on_starting

__all__ = ["child_exit", "on_starting"]
