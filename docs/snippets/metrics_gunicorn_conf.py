"""gunicorn.conf.py: multiprocess metrics (set PROMETHEUS_MULTIPROC_DIR for the master)."""

from backendkit.metrics import child_exit, on_starting

# on_starting empties the directory before any worker starts; child_exit marks an exited
# worker dead, so its requests in flight leave the in-progress gauge.
__all__ = ["child_exit", "on_starting"]
