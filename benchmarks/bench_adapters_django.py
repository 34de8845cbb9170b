"""Throughput of a Django JSON endpoint: backendkit's adapter against bare Django and the
stack users assemble today (django-structlog, and django-ratelimit for the limited variant).

Every app serves ``GET /api/item`` with the same envelope bytes
(``{"success":true,"data":{...},"message":null}``) under gunicorn (one ``sync`` worker), with
the same stock middleware (``SecurityMiddleware``, ``CommonMiddleware``):

- ``bare``: nothing else;
- ``backendkit``: ``BackendKitMiddleware`` (request id, log context, security headers, error
  envelope, body cap) and ``success_response``, one JSON access-log line per request to a
  file; ``backendkit_nolog``: the same with that line filtered out (WARNING);
- ``structlog``: django-structlog's ``RequestMiddleware`` with its documented structlog
  setup, one JSON line per request to a file (``_peer_django.py``);
- ``backendkit_limit`` (``@rate_limit``, memory storage) against ``structlog_ratelimit``
  (django-ratelimit's ``@ratelimit`` on the local-memory cache), the limit never reached.

On this 2-core machine the servers are pinned to CPU 1 (``taskset -c 1``) and the load
generator (this process: blocking sockets on threads, one new connection per request since
gunicorn's sync worker closes every connection) to CPU 0. The apps are measured round by
round (A, B, C, A, B, C, ...), many short rounds; each is reported as the median of its
rounds with the quartiles, beside the worker's CPU time per request (from /proc, in
nanoseconds), which other load on the machine disturbs less than throughput. A comparison
whose quartile ranges overlap is "same", otherwise the ratio of the medians
(``_rounds.py``).

    python benchmarks/bench_adapters_django.py [--quick] [--json out.json]

The same file is the WSGI module gunicorn imports (``BENCH_DJANGO_MODE`` picks the app).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _adapter_apps import BIG_LIMIT, ITEM
from _rounds import Comparison, compare_apps, cpu_seconds, summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: bare first, then ours and the peers, in the order of the rounds.
MODES = (
    "bare",
    "backendkit",
    "backendkit_nolog",
    "structlog",
    "backendkit_limit",
    "structlog_ratelimit",
)
COMPARISONS: list[Comparison] = [
    ("backendkit", "structlog", 1.0, "everything on, against the stack users build"),
    ("backendkit_limit", "structlog_ratelimit", 1.0, "everything on plus a rate limit, "
     "against the stack users build with its limiter"),
    ("backendkit_nolog", "bare", 0.90, "without the access-log line, against bare Django"),
    ("backendkit", "bare", None, "everything on, against bare Django"),
]  # fmt: skip
#: The peers' packages (in .venv-bench, from benchmarks/requirements-peers.txt).
NEEDS = {
    "structlog": ["django_structlog"],
    "structlog_ratelimit": ["django_structlog", "django_ratelimit"],
}
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
    apps: list[str] = []
    if mode.startswith("backendkit"):
        middleware.insert(0, "backendkit.adapters.django.BackendKitMiddleware")
        extra["BACKENDKIT"] = {"KIT": _kit(mode)}
    elif mode.startswith("structlog"):
        import _peer_django

        _peer_django.configure_structlog()
        middleware.append(_peer_django.MIDDLEWARE)
        apps = _peer_django.INSTALLED_APPS
        extra.update(_peer_django.SETTINGS)
    if "LOGGING" not in extra:
        extra["LOGGING_CONFIG"] = None
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-" + "x" * 40,
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=middleware,
        INSTALLED_APPS=apps,
        DATABASES={},
        USE_TZ=True,
        **extra,
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def _kit(mode: str) -> Any:
    """backendkit's kit: its JSON access log (filtered out for ``_nolog``), a memory limiter."""
    from backendkit.logging import configure_logging
    from backendkit.ratelimit import RateLimiter
    from backendkit.settings import Settings
    from backendkit.web import WebKit

    # backendkit_nolog: the same middleware with the access log filtered out (WARNING),
    # to show what the middleware costs apart from formatting one log line per request.
    level = "WARNING" if mode == "backendkit_nolog" else "INFO"
    settings = Settings(env="production", secret_key=["b" * 32], log_format="json", log_level=level)
    configure_logging(settings)
    limiter = RateLimiter("memory://") if mode == "backendkit_limit" else None
    return WebKit.from_settings(settings, limiter=limiter)


def _view(mode: str) -> Any:
    if mode.startswith("backendkit"):
        from backendkit.adapters.django import rate_limit, success_response

        def item(request: Any) -> Any:
            return success_response(ITEM)

        return rate_limit(BIG_LIMIT)(item) if mode == "backendkit_limit" else item
    from django.http import JsonResponse

    def plain(request: Any) -> Any:
        return JsonResponse(
            {"success": True, "data": ITEM, "message": None},
            json_dumps_params={"separators": (",", ":")},
        )

    if mode == "structlog_ratelimit":
        import _peer_django

        return _peer_django.limited(plain)
    return plain


urlpatterns: list[Any] = []
application: Any = None

if os.environ.get("BENCH_DJANGO_MODE") in MODES:
    _mode = os.environ["BENCH_DJANGO_MODE"]
    application = _configure_django(_mode)
    from django.urls import path

    urlpatterns = [path("api/item", _view(_mode))]


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


@contextlib.contextmanager
def serve(mode: str, log_dir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Start gunicorn for ``mode`` pinned to CPU 1; yield (port, process); kill its group.

    It yields at once: ``ready`` waits for it, so that all apps start up together.
    """
    port = _free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    env = dict(
        os.environ,
        BENCH_DJANGO_MODE=mode,
        BENCH_LOG_FILE=str(log_dir / f"{mode}.jsonl"),  # the peers' log (ours: stderr, a file)
        PYTHONPATH=f"{ROOT / 'src'}:{HERE}",
    )
    command = [
        "taskset", "-c", "1",
        gunicorn, "--workers", "1", "--worker-class", "sync", "--backlog", "2048",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--chdir", str(HERE), "bench_adapters_django:application",
    ]  # fmt: skip
    with open(log_dir / f"{mode}.log", "wb") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            yield port, proc
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def ready(mode: str, port: int, proc: subprocess.Popen[bytes]) -> list[int]:
    """Wait until ``mode``'s server answers (30 s at most); its worker pids."""
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError):
            if _get(port)[0] == 200:
                return _children(proc.pid)
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn ({mode}) did not start")
        time.sleep(0.1)


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
    """Every app answers 200 with the same body bytes before anything is timed."""
    results = {mode: _get(port) for mode, port in ports.items()}
    for mode, (status, headers, body) in results.items():
        assert status == 200, (mode, status)
        assert body == EXPECTED_BODY, (mode, body)
        assert headers.get("x-content-type-options") == "nosniff", (mode, headers)
        if mode.startswith("backendkit"):
            assert headers.get("x-request-id"), "backendkit adds X-Request-ID"
        if mode == "backendkit_limit":
            assert headers.get("ratelimit-limit"), "backendkit sends the limit headers"


_WHY = {
    "structlog": "backendkit does more per request than the recipe: it echoes the request id "
    "on the response, renders every error as the envelope, caps the body and redacts secrets "
    "in log lines.",
    "bare": "The bare app does nothing per request: backendkit adds a request id, the log "
    "context, security headers, the error envelope around the view and the body cap, and "
    "(unless filtered out) one JSON access-log line.",
}


def main() -> None:
    """Run the benchmark and print absolute numbers, spreads and comparisons."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="three short rounds (smoke test)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    # Many short rounds, interleaved (A, B, C, A, B, C, ...): at about 2,000 req/s a round
    # of 600 requests takes a third of a second (over a second on a busy machine); full mode
    # is 6 apps x 10 rounds, under a minute and a half even then.
    rounds, requests, warmup = (3, 400, 100) if args.quick else (10, 600, 300)
    started = time.perf_counter()

    os.sched_setaffinity(0, {0})  # the load generator on CPU 0, the server on CPU 1
    unavailable = {
        mode: f"{module} is not installed in this environment"
        for mode, modules in NEEDS.items()
        for module in modules
        if importlib.util.find_spec(module) is None
    }
    modes = [mode for mode in MODES if mode not in unavailable]
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu_us: dict[str, list[float]] = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        log_dir = Path(tmp)
        started_servers = {mode: stack.enter_context(serve(mode, log_dir)) for mode in modes}
        servers = {
            mode: (port, ready(mode, port, proc)) for mode, (port, proc) in started_servers.items()
        }
        ports = {mode: port for mode, (port, _) in servers.items()}
        check_same_result(ports)
        for mode in modes:
            load(ports[mode], warmup, args.concurrency)
        for _ in range(rounds):
            for mode in modes:
                workers = servers[mode][1]
                before = cpu_seconds(workers)
                rates[mode].append(load(ports[mode], requests, args.concurrency))
                cpu_us[mode].append((cpu_seconds(workers) - before) / requests * 1e6)

    apps = {mode: {"rps": summary(rates[mode]), "cpu_us": summary(cpu_us[mode])} for mode in modes}
    rows = compare_apps(
        apps, COMPARISONS, lambda other: _WHY[other if other == "bare" else "structlog"]
    )
    print(
        f"Django JSON endpoint, gunicorn 1 sync worker on CPU 1, load generator on CPU 0, "
        f"{args.concurrency} connections, {rounds} interleaved rounds x {requests} requests"
    )
    for mode, app in apps.items():
        rps, cpu = app["rps"], app["cpu_us"]
        print(
            f"  {mode:<20} {rps['median']:>7,.0f} req/s [{rps['q1']:,.0f}-{rps['q3']:,.0f}]"
            f"  {cpu['median']:>6,.0f} us CPU [{cpu['q1']:.0f}-{cpu['q3']:.0f}]"
        )
    for row in rows:
        shown = {
            k: "same" if row[k]["verdict"] == "same" else f"{row[k]['ratio']:.2f}x"
            for k in ("rps", "cpu")
        }
        print(
            f"  {row['ours']} vs {row['other']}: throughput {shown['rps']}, CPU {shown['cpu']}"
            f" (target {row['target'] or '-'})"
        )
    print(f"  ({time.perf_counter() - started:.1f} s in total)")
    if args.json:
        result = {
            "benchmark": "adapters_django",
            "quick": args.quick,
            "concurrency": args.concurrency,
            "rounds": rounds,
            "requests_per_round": requests,
            "apps": apps,
            "comparisons": rows,
            "unavailable": unavailable,
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
