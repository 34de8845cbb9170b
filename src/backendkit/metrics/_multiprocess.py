"""Multiprocess mode (gunicorn, ``uvicorn --workers``): each worker writes its metrics to
files in ``PROMETHEUS_MULTIPROC_DIR``; a scrape reads them all, so counts from every
worker add up. The directory must be emptied before the workers start (old files would
add an earlier run's counts), and a worker that exits must be marked dead (its in-flight
gauge would otherwise stay). The gunicorn hooks below do both; see the metrics guide for
what ``uvicorn --workers`` lacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from backendkit.errors import ConfigurationError
from backendkit.metrics._metrics import MULTIPROC_ENV, multiprocess_dir

__all__ = ["child_exit", "mark_process_dead", "on_starting", "prepare_multiprocess_dir"]


def prepare_multiprocess_dir() -> Path:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` or empty it of metric files (before any worker).

    Raises:
        ConfigurationError: the variable is not set.
    """
    directory = multiprocess_dir()
    if directory is None:
        raise ConfigurationError(f"{MULTIPROC_ENV} is not set: multiprocess mode needs it")
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path


def mark_process_dead(pid: int) -> None:
    """Forget a dead worker's live gauges (``livesum``: the requests it had in flight)."""
    multiprocess.mark_process_dead(pid, multiprocess_dir())  # type: ignore[no-untyped-call]


def on_starting(server: Any) -> None:
    """gunicorn hook: empty the metrics directory before the workers start."""
    prepare_multiprocess_dir()


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: mark the exited ``worker`` dead."""
    mark_process_dead(worker.pid)
