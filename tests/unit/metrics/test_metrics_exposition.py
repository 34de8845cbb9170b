"""``serve_metrics``: the exposition on a port of its own, and the multiprocess registry."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry

from backendkit.errors import ConfigurationError
from backendkit.metrics import Metrics, prepare_multiprocess_dir, serve_metrics


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_metrics_answers_on_its_own_port() -> None:
    """A scrape of the separate port gets the registry's metrics."""
    metrics = Metrics(CollectorRegistry())
    port = _free_port()
    server, thread = serve_metrics(port, "127.0.0.1", metrics)
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.status_code == 200
    assert "backendkit_http_requests_in_progress" in response.text


_MULTIPROCESS = """
import os, sys
from backendkit.metrics import Metrics, MetricsEndpoint, prepare_multiprocess_dir
from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit
prepare_multiprocess_dir()
pipeline = Pipeline(WebKit.from_settings(Settings(env="test", secret_key="k" * 32),
                                          metrics=Metrics()))
for _ in range(3):
    cycle = pipeline.start(method="GET", path="/api/x", request_id=None)
    cycle.route = "/api/x"
    cycle.finish(200)
body = MetricsEndpoint().answer(None).body.decode()
line = 'backendkit_http_requests_total{method="GET",route="/api/x",status="200"} 3.0'
assert line in body, body
print(sorted(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))[0].split("_")[0])
"""


def test_multiprocess_mode_reads_the_files(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR the endpoint reads this process's files, once the
    directory is emptied of a stale (here unreadable) one."""
    directory = str(tmp_path)
    (tmp_path / "counter_999999.db").write_bytes(b"stale")
    env = {"PROMETHEUS_MULTIPROC_DIR": directory, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", _MULTIPROCESS], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "counter"


def test_prepare_needs_the_directory_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without PROMETHEUS_MULTIPROC_DIR, preparing multiprocess mode is refused."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(ConfigurationError, match="PROMETHEUS_MULTIPROC_DIR"):
        prepare_multiprocess_dir()


def test_the_gunicorn_hooks_empty_the_directory_and_forget_dead_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """on_starting removes every metric file; child_exit only the dead worker's live ones."""
    from types import SimpleNamespace

    from backendkit.metrics import child_exit, on_starting

    directory = tmp_path / "prom"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    on_starting(None)  # creates it
    for name in ("counter_11.db", "gauge_livesum_11.db", "gauge_livesum_12.db", "gauge_sum_11.db"):
        (directory / name).write_bytes(b"")
    child_exit(None, SimpleNamespace(pid=11))
    assert sorted(p.name for p in directory.iterdir()) == [
        "counter_11.db",
        "gauge_livesum_12.db",
        "gauge_sum_11.db",
    ]
    (directory / "notes.txt").write_text("kept")
    on_starting(None)
    assert [p.name for p in directory.iterdir()] == ["notes.txt"]


def test_the_multiprocess_exposition_is_a_fresh_registry_of_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In multiprocess mode the endpoint reads the directory, not the process's registry."""
    from backendkit.metrics import exposition_registry

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = Metrics(CollectorRegistry())
    assert metrics.mirror is not None
    registry = exposition_registry(metrics)
    assert registry is not metrics.registry
    assert "multiprocess" in repr(metrics)
    metrics.mirror.stop()


def test_closing_the_kit_forgets_this_process_in_multiprocess_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's kit closing (lifespan shutdown, atexit) removes its live gauges, as
    gunicorn's child_exit would: uvicorn's workers get no child_exit."""
    import os

    from backendkit.settings import Settings
    from backendkit.web import WebKit

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    live, kept = tmp_path / f"gauge_livesum_{os.getpid()}.db", tmp_path / "counter_1.db"
    live.write_bytes(b"")
    kept.write_bytes(b"")
    kit = WebKit.from_settings(
        Settings(env="test", secret_key="k" * 32), metrics=Metrics(CollectorRegistry())
    )
    kit.close()
    assert not live.exists()
    assert kept.exists()


def test_closing_a_single_process_kit_touches_no_file(tmp_path: Path) -> None:
    """The valid twin: without multiprocess mode, closing writes and removes nothing."""
    from backendkit.settings import Settings
    from backendkit.web import WebKit

    kit = WebKit.from_settings(
        Settings(env="test", secret_key="k" * 32), metrics=Metrics(CollectorRegistry())
    )
    assert kit.metrics is not None
    kit.close()
    assert list(tmp_path.iterdir()) == []
