"""Multiprocess mode with two workers, under gunicorn (Flask) and ``uvicorn --workers``
(FastAPI): counts from both add up exactly in one scrape, whichever worker answers it;
the directory is emptied at start (gunicorn's hook; for uvicorn, the command that starts
it, as the guide says); under gunicorn a worker that dies keeps its counts and leaves
nothing in flight."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKENDKIT_", "PYTEST"))}
    env.update(
        PYTHONPATH=str(REPO),
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        BACKENDKIT_ENV="test",
        BACKENDKIT_SECRET_KEY="k" * 32,
        BACKENDKIT_LOG_LEVEL="WARNING",
    )
    return env


Server = tuple[str, Path, subprocess.Popen[bytes]]
#: Each server's command, and the route template its framework reports for the items route.
_SERVERS = {
    "gunicorn": (
        ["-m", "gunicorn", "-w", "2", "-c", str(Path(__file__).with_name("_gunicorn_conf.py")),
         "--graceful-timeout", "3", "tests.integration.metrics._app:create_app()"],
        "/api/items/<item_id>",
    ),
    "uvicorn": (
        ["-m", "uvicorn", "--factory", "tests.integration.metrics._app:create_asgi_app",
         "--workers", "2", "--no-access-log", "--timeout-graceful-shutdown", "3"],
        "/api/items/{item_id}",
    ),
}  # fmt: skip


@contextlib.contextmanager
def _running(
    kind: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``kind`` with 2 workers; a stale file from an earlier run left in the directory."""
    directory = tmp_path / "prom"
    directory.mkdir()
    stale = (
        "from prometheus_client import Counter\n"
        "Counter('backendkit_http_requests', 'x', ['method', 'route', 'status'])"
        ".labels('GET', '/stale', '200').inc()"
    )
    subprocess.run([sys.executable, "-c", stale], env=_env(directory), check=True, timeout=30)
    assert list(directory.glob("counter_*.db"))
    if kind == "uvicorn":  # no hooks: the start command empties it (the guide's advice)
        for path in directory.glob("*.db"):
            path.unlink()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    arguments, _template = _SERVERS[kind]
    bind = ["-b", f"127.0.0.1:{port}"] if kind == "gunicorn" else ["--port", str(port)]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *arguments, *bind], cwd=REPO,
        env=_env(directory) | (extra_env or {}), stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_healthy(url, process, tmp_path / "server.log")
        yield url, directory, process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


@pytest.fixture(params=sorted(_SERVERS))
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Server]]:
    """Each server in turn, with the items route's template."""
    with _running(request.param, tmp_path) as running:
        yield _SERVERS[request.param][1], running


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Server]:
    """gunicorn alone: its child_exit hook is what the dead-worker test checks."""
    with _running("gunicorn", tmp_path) as running:
        yield running


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start:\n" + log.read_text(errors="replace")[-3000:])


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(url + "/metrics", timeout=5)
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _requests(
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str
) -> float:
    key = ("backendkit_http_requests_total", tuple(sorted(labels.items())))
    return metrics.get(key, 0.0)


def test_two_workers_add_up_exactly(server: tuple[str, Server]) -> None:
    """A known mix spread over both workers is counted exactly, in every scrape."""
    items, (url, _directory, _process) = server
    pids: set[int] = set()
    successes = 0
    # A new connection per request: gunicorn's workers take turns accepting them.
    while len(pids) < 2 or successes < 20:
        assert successes < 400, "one worker served every request"
        response = httpx.get(f"{url}/api/items/{successes}", timeout=5)
        assert response.status_code == 200
        pids.add(response.json()["pid"])
        successes += 1
    for _ in range(7):
        assert httpx.get(url + "/api/secret", timeout=5).status_code == 401
    for index in range(5):
        assert httpx.get(f"{url}/no/such/{index}", timeout=5).status_code == 404
    scrapes = [_scrape(url) for _ in range(6)]  # answered by either worker
    for metrics in scrapes:
        assert _requests(metrics, method="GET", route=items, status="200") == successes
        assert _requests(metrics, method="GET", route="/api/secret", status="401") == 7
        assert _requests(metrics, method="GET", route="unmatched", status="404") == 5
        assert _requests(metrics, method="GET", route="/stale", status="200") == 0
        total = sum(
            value
            for (name, _), value in metrics.items()
            if name == "backendkit_http_requests_total"
        )
        assert total == successes + 12  # the health probes and scrapes are not counted
        assert metrics[("backendkit_http_requests_in_progress", ())] == 0
        errors = (
            "backendkit_http_errors_total",
            (("code", "UNAUTHENTICATED"), ("route", "/api/secret")),
        )
        assert metrics[errors] == 7


def test_the_master_serves_every_workers_counts_on_its_own_port(tmp_path: Path) -> None:
    """``serve_metrics`` in gunicorn's master (``when_ready``): one scrape of the master's
    port adds up both workers exactly, and the app's port is not needed for it."""
    port = _free_port()
    with _running("gunicorn", tmp_path, {"METRICS_MASTER_PORT": str(port)}) as running:
        url, _directory, _process = running
        pids: set[int] = set()
        served = 0
        while len(pids) < 2 or served < 10:
            assert served < 400, "one worker served every request"
            pids.add(httpx.get(f"{url}/api/items/{served}", timeout=5).json()["pid"])
            served += 1
        master = _scrape(f"http://127.0.0.1:{port}")
        route = _SERVERS["gunicorn"][1]
        assert _requests(master, method="GET", route=route, status="200") == served
        assert master[("backendkit_http_requests_in_progress", ())] == 0


def test_a_dead_worker_keeps_its_counts(gunicorn: Server) -> None:
    """A killed worker's counts stay; child_exit removes its live gauge file."""
    url, directory, _process = gunicorn
    served: dict[int, int] = {}
    while len(served) < 2:
        assert sum(served.values()) < 400
        pid = httpx.get(f"{url}/api/items/x", timeout=5).json()["pid"]
        served[pid] = served.get(pid, 0) + 1
    victim = min(served)
    assert (directory / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while (directory / f"gauge_livesum_{victim}.db").exists():
        assert time.monotonic() < deadline, "child_exit did not mark the worker dead"
        time.sleep(0.1)
    _wait_healthy(url, _process, directory.parent / "server.log")
    metrics = _scrape(url)
    assert _requests(metrics, method="GET", route=_SERVERS["gunicorn"][1], status="200") == sum(
        served.values()
    )
    assert metrics[("backendkit_http_requests_in_progress", ())] == 0


def test_cache_counters_of_both_workers_add_up(server: tuple[str, Server]) -> None:
    """Cache reads spread over both workers: hits and misses add up to the reads (each
    worker copies its CacheStats to its files every second, and before a scrape)."""
    _items, (url, _directory, _process) = server
    pids: set[int] = set()
    reads = 0
    while len(pids) < 2 or reads < 30:
        assert reads < 400, "one worker served every request"
        response = httpx.get(f"{url}/api/squares/{reads % 5}", timeout=5)
        assert response.json()["square"] == (reads % 5) ** 2
        pids.add(response.json()["pid"])
        reads += 1
    deadline = time.monotonic() + 20
    while True:
        metrics = _scrape(url)
        hits = sum(v for (name, _), v in metrics.items() if name == "backendkit_cache_hits_total")
        misses = sum(
            v for (name, _), v in metrics.items() if name == "backendkit_cache_misses_total"
        )
        if hits + misses == reads or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # a worker copies its values once a second
    assert hits + misses == reads
    assert 5 <= misses <= 10  # each worker loads each of the 5 numbers at most once
    loads = sum(v for (name, _), v in metrics.items() if name == "backendkit_cache_loads_total")
    assert loads == misses


def test_a_uvicorn_worker_that_exits_leaves_nothing_in_flight(tmp_path: Path) -> None:
    """uvicorn has no child_exit hook: a worker stopped with SIGTERM removes its own live
    gauges as it exits (the in-flight gauge's file), its counts stay."""
    with _running("uvicorn", tmp_path) as (url, directory, _process):
        served: dict[int, int] = {}
        while len(served) < 2:
            assert sum(served.values()) < 400
            pid = httpx.get(f"{url}/api/items/x", timeout=5).json()["pid"]
            served[pid] = served.get(pid, 0) + 1
        victim = min(served)
        assert (directory / f"gauge_livesum_{victim}.db").exists()
        os.kill(victim, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while (directory / f"gauge_livesum_{victim}.db").exists():
            assert time.monotonic() < deadline, "the worker left its live gauge behind"
            time.sleep(0.1)
        metrics = _scrape(url)
        items = _SERVERS["uvicorn"][1]
        assert _requests(metrics, method="GET", route=items, status="200") == sum(served.values())
