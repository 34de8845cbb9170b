"""Throughput of a Django JSON endpoint with backendkit's adapter against bare Django.

Both apps serve ``GET /api/item`` returning the same envelope bytes
(``{"success":true,"data":{...},"message":null}``) under gunicorn (one ``sync`` worker), with
the same stock middleware (``SecurityMiddleware``, ``CommonMiddleware``). The backendkit app
adds ``BackendKitMiddleware`` (request id, log context, security headers, error handling) and
renders with ``success_response``; its access log is on, one JSON line per request, written
to a file (the formatting cost is measured, the disk is not the bottleneck). A third app,
``backendkit_nolog``, is the same with the access log filtered out, to separate what the
middleware costs from what one structured log line per request costs.

On this 2-core machine the server is pinned to CPU 1 (``taskset -c 1``) and the load
generator (this process: blocking sockets on threads, one new connection per request since
gunicorn's sync worker closes every connection) to CPU 0. Rounds alternate between the two
apps; the median of the rounds is reported, with the ratio backendkit / bare, beside the
worker's CPU time per request (read from /proc), which other load on the machine disturbs
less than throughput.

    python benchmarks/bench_adapters_django.py [--quick] [--json out.json]

The same file is the WSGI module gunicorn imports (``BENCH_DJANGO_MODE`` picks the app).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ITEM = {"id": 42, "name": "Widget", "tags": ["a", "b", "c"], "price": "9.99", "active": True}
MODES = ("bare", "backendkit", "backendkit_nolog")
EXPECTED_BODY = json.dumps(
    {"success": True, "data": ITEM, "message": None}, separators=(",", ":")
).encode()


# --------------------------------------------------------------------------- the apps


def _configure_django(mode: str) -> Any:
    import django
    from django.conf import settings

    middleware = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    extra: dict[str, Any] = {}
    if mode.startswith("backendkit"):
        middleware.insert(0, "backendkit.adapters.django.BackendKitMiddleware")
        extra["BACKENDKIT"] = {"ENV": "production", "SECRET_KEY": "b" * 32, "LOG_FORMAT": "json"}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-" + "x" * 40,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=middleware,
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
        LOGGING_CONFIG=None,
        **extra,
    )
    django.setup()
    if mode.startswith("backendkit"):
        from backendkit.logging import configure_logging
        from backendkit.settings import Settings

        # backendkit_nolog: the same middleware with the access log filtered out (WARNING),
        # to show what the middleware costs apart from formatting one log line per request.
        level = "WARNING" if mode == "backendkit_nolog" else "INFO"
        configure_logging(
            Settings(env="production", secret_key=["b" * 32], log_format="json", log_level=level)
        )
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


urlpatterns: list[Any] = []
application: Any = None

if os.environ.get("BENCH_DJANGO_MODE") in MODES:
    _mode = os.environ["BENCH_DJANGO_MODE"]
    application = _configure_django(_mode)
    from django.urls import path

    if _mode == "bare":
        from django.http import JsonResponse

        def item(request: Any) -> Any:
            return JsonResponse(
                {"success": True, "data": ITEM, "message": None},
                json_dumps_params={"separators": (",", ":")},
            )

    else:
        from backendkit.adapters.django import success_response

        def item(request: Any) -> Any:
            return success_response(ITEM)

    urlpatterns = [path("api/item", item)]


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` (the gunicorn worker), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@contextlib.contextmanager
def serve(mode: str, log_dir: Path) -> Iterator[tuple[int, list[int]]]:
    """Run gunicorn for ``mode`` pinned to CPU 1; yield (port, worker pids); kill its group."""
    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    env = dict(os.environ, BENCH_DJANGO_MODE=mode, PYTHONPATH=f"{ROOT / 'src'}:{HERE}")
    command = [
        "taskset", "-c", "1",
        gunicorn, "--workers", "1", "--worker-class", "sync", "--backlog", "2048",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--chdir", str(HERE), "bench_adapters_django:application",
    ]  # fmt: skip
    with open(log_dir / f"{mode}.log", "wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError):
                    if _get(port)[0] == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn ({mode}) did not start; see {log_dir}")
                time.sleep(0.1)
            yield port, _children(proc.pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --------------------------------------------------------------------------- the load


def _request_bytes(port: int) -> bytes:
    return (
        f"GET /api/item HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    ).encode()


def _get(port: int) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_request_bytes(port))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def load(port: int, requests: int, concurrency: int) -> float:
    """Send ``requests`` GETs from ``concurrency`` threads; return requests per second."""
    payload = _request_bytes(port)
    remaining = [requests]
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(payload)
                first = sock.recv(65536)
                while sock.recv(65536):
                    pass
            if not first.startswith(b"HTTP/1.1 200"):
                failures.append(first[:40].decode("latin-1"))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]!r}")
    return requests / elapsed


def check_same_result(ports: dict[str, int]) -> None:
    """Both apps answer the same status and body before anything is timed."""
    results = {mode: _get(port) for mode, port in ports.items()}
    for mode, (status, _headers, body) in results.items():
        assert status == 200, (mode, status)
        assert body == EXPECTED_BODY, (mode, body)
    for mode in MODES[1:]:
        assert results[mode][1].get("x-request-id"), "backendkit adds X-Request-ID"


_WHY = {
    "backendkit": "BackendKitMiddleware does more per request than the bare app: a request "
    "id (accepted or generated), the log context bound and cleared, security headers, the "
    "error envelope around the view, and one JSON access-log line per request formatted "
    "through structlog (backendkit_nolog shows how much of the loss is that line).",
    "backendkit_nolog": "Without the access-log line the middleware still creates the request "
    "id, binds the log context, adds the security headers and wraps the view in the error "
    "handler; the bare app does none of it.",
}


def main() -> None:
    """Run the benchmark and print absolute numbers and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round (smoke test)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    # ~600 req/s on this 2-core machine: full mode is 3 x (3 x 4,000) + 3 x 500 requests,
    # about a minute; the CPU-per-request figure is already stable at that size.
    rounds, requests, warmup = (1, 1_500, 200) if args.quick else (3, 4_000, 500)
    started = time.perf_counter()

    os.sched_setaffinity(0, {0})  # the load generator on CPU 0, the server on CPU 1
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpu_us: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        log_dir = Path(tmp)
        servers = {mode: stack.enter_context(serve(mode, log_dir)) for mode in MODES}
        ports = {mode: port for mode, (port, _) in servers.items()}
        check_same_result(ports)
        for mode in MODES:
            load(ports[mode], warmup, args.concurrency)
        for _ in range(rounds):
            for mode in MODES:
                workers = servers[mode][1]
                before = cpu_seconds(workers)
                rates[mode].append(load(ports[mode], requests, args.concurrency))
                cpu_us[mode].append((cpu_seconds(workers) - before) / requests * 1e6)

    medians = {mode: statistics.median(values) for mode, values in rates.items()}
    cpu_medians = {mode: statistics.median(values) for mode, values in cpu_us.items()}
    ratio = medians["backendkit"] / medians["bare"]
    cpu_ratio = cpu_medians["bare"] / cpu_medians["backendkit"]
    nolog_ratio = medians["backendkit_nolog"] / medians["bare"]
    nolog_cpu_ratio = cpu_medians["bare"] / cpu_medians["backendkit_nolog"]
    print(
        f"Django JSON endpoint, gunicorn 1 sync worker on CPU 1, load generator on CPU 0, "
        f"{args.concurrency} connections, {rounds} round(s) x {requests} requests"
    )
    for mode in MODES:
        spread = ", ".join(f"{r:,.0f}" for r in rates[mode])
        print(
            f"  {mode:<11} {medians[mode]:>9,.0f} req/s  {cpu_medians[mode]:>7,.0f} us CPU/request"
            f"  (rounds: {spread})"
        )
    print(f"  throughput ratio backendkit / bare: {ratio:.3f}x")
    print(f"  server-CPU ratio (bare CPU / backendkit CPU per request): {cpu_ratio:.3f}x")
    print(
        f"  without the access log: throughput {nolog_ratio:.3f}x,"
        f" server-CPU {nolog_cpu_ratio:.3f}x"
    )
    print(f"  ({time.perf_counter() - started:.1f} s in total)")
    notes = {}
    for mode in MODES[1:]:
        if medians[mode] < medians["bare"] or cpu_medians[mode] > cpu_medians["bare"]:
            notes[mode] = _WHY[mode]
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "benchmark": "adapters_django",
                    "notes": notes,
                    "quick": args.quick,
                    "concurrency": args.concurrency,
                    "requests_per_round": requests,
                    "rounds": rates,
                    "median_rps": medians,
                    "cpu_us_per_request": cpu_us,
                    "ratio_backendkit_vs_bare": ratio,
                    "cpu_ratio_bare_vs_backendkit": cpu_ratio,
                    "ratio_nolog_vs_bare": nolog_ratio,
                    "cpu_ratio_bare_vs_nolog": nolog_cpu_ratio,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
