"""Throughput of a JSON endpoint: backendkit's adapters against the bare frameworks and peers.

Every app answers ``GET /json`` with the same envelope (checked equal before timing):

- FastAPI under uvicorn (one worker, ``--no-access-log``, httptools and uvloop when
  installed, as with ``uvicorn[standard]``): bare; with ``install(app, kit)``
  (pure ASGI middleware, envelope, request id, security headers, one JSON access-log line
  per request written to a file); the same per-request work as a ``BaseHTTPMiddleware``;
  ``install`` plus ``RateLimit`` against bare FastAPI plus slowapi (same limit, memory
  storage, sliding-window-counter, headers on).
- ``-nolog``: the same backendkit app with the log level at WARNING, which filters the
  access-log line out: the difference to the full app is the cost of that line in the
  shared logging pipeline.
- ``-floor``: the bare app plus a hand-written minimum of the adapter's duties (request
  id in a contextvar, ``X-Request-ID`` and ``nosniff`` headers, one JSON access line written
  and flushed; no envelope, body cap, redaction or log pipeline): how close any adapter
  that keeps an access log can come to the bare framework.
- ``-serverlog``: the bare app with the server's own access log on (uvicorn's default
  access log to stdout, gunicorn's ``--access-logfile``): the log a bare deployment usually
  keeps, for context (the baseline stays the bare app without it).
- Flask under gunicorn (one ``gthread`` worker, 8 threads, keep-alive): bare; with
  ``BackendKit(app)``; plus ``@rate_limit`` against bare Flask plus Flask-Limiter (same
  options).

On this 2-core machine the server is pinned to CPU 1 and the load generator to CPU 0
(``taskset``). The load generator is ``wrk`` (``apt-get install wrk``) when present, else a
small asyncio keep-alive client in this file. Rounds alternate between the apps of a
group. Two figures are reported per app, each as the median of the rounds with its ratio
to the group's baseline: requests/second (wall clock), and the server's CPU time per
request (user + system of its whole process group, from /proc), which stays meaningful
when other work shares the machine. The CPU ratio is baseline CPU / app CPU, i.e. the
throughput ratio a CPU-bound server would see. Peers (slowapi, Flask-Limiter) that are not
installed are skipped and listed under ``"unavailable"`` in the JSON, with the reason: run
with ``.venv-bench/bin/python``.

    python benchmarks/bench_adapters.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_CPU, LOAD_CPU = "1", "0"
CONNECTIONS = 32

# group -> (baseline, [contenders]); each entry: (name, needs-module)
GROUPS: dict[str, list[tuple[str, str | None]]] = {
    "fastapi": [
        ("fastapi-bare", None),
        ("fastapi-backendkit", None),
        ("fastapi-backendkit-nolog", None),
        ("fastapi-floor", None),
        ("fastapi-bare-serverlog", None),
        ("fastapi-basehttpmiddleware", None),
    ],
    "fastapi-limit": [
        ("fastapi-slowapi", "slowapi"),
        ("fastapi-backendkit-limit", None),
        ("fastapi-backendkit-limit-nolog", None),
    ],
    "flask": [
        ("flask-bare", None),
        ("flask-backendkit", None),
        ("flask-backendkit-nolog", None),
        ("flask-floor", None),
        ("flask-bare-serverlog", None),
    ],
    "flask-limit": [
        ("flask-limiter", "flask_limiter"),
        ("flask-backendkit-limit", None),
        ("flask-backendkit-limit-nolog", None),
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _uvicorn_fast_path() -> list[str]:
    # uvicorn[standard] (httptools + uvloop) is what production runs; h11 otherwise.
    options = []
    if importlib.util.find_spec("httptools") is not None:
        options += ["--http", "httptools"]
    if importlib.util.find_spec("uvloop") is not None:
        options += ["--loop", "uvloop"]
    return options


def _server_command(name: str, port: int, log_dir: Path) -> list[str]:
    # "-serverlog": the bare app with the server's own access log on (uvicorn's default,
    # gunicorn's --access-logfile), the log a bare deployment usually keeps.
    server_log = name.endswith("-serverlog")
    if name.startswith("fastapi"):
        logging = (
            ["--log-level", "info"] if server_log else ["--no-access-log", "--log-level", "warning"]
        )
        return [
            sys.executable, "-m", "uvicorn", "--factory", "benchmarks._adapter_apps:app",
            "--host", "127.0.0.1", "--port", str(port), *logging,
            "--workers", "1", *_uvicorn_fast_path(),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", "benchmarks._adapter_apps:app()",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
        "--threads", "8", "--log-level", "warning",
        *(["--access-logfile", str(log_dir / f"{name}.access")] if server_log else []),
    ]  # fmt: skip


@contextlib.contextmanager
def serve_all(names: list[str], log_dir: Path) -> Iterator[dict[str, tuple[int, int]]]:
    """Start every server of ``names`` pinned to SERVER_CPU; yield name -> (port, group id).

    All are launched before waiting for the first: their start-ups (imports, mostly) then
    overlap the polling instead of running one after the other.
    """
    processes: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in names:
            port = _free_port()
            env = dict(os.environ, BENCH_APP=name, BENCH_LOG_FILE=str(log_dir / f"{name}.log"))
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT), str(ROOT / "src"), env.get("PYTHONPATH", "")]
            )
            command = ["taskset", "-c", SERVER_CPU, *_server_command(name, port, log_dir)]
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=open(log_dir / f"{name}.err", "w"),  # noqa: SIM115
            )  # fmt: skip
            processes[name] = (process, port)
        deadline = time.monotonic() + 30
        for name, (process, port) in processes.items():
            while True:
                try:
                    fetch(port)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        err = (log_dir / f"{name}.err").read_text()
                        raise RuntimeError(f"{name} did not start:\n{err}") from None
                    time.sleep(0.05)
        yield {name: (port, process.pid) for name, (process, port) in processes.items()}
    finally:
        for process, _ in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def fetch(port: int) -> tuple[int, dict[str, str], Any]:
    """One GET /json: status, headers (lower-case) and the parsed body."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, json.loads(response.read())


# --------------------------------------------------------------------------- load generators


def run_wrk(port: int, seconds: float) -> tuple[float, int]:
    """(requests/second, requests) from wrk pinned to LOAD_CPU; refuses errors or non-2xx."""
    output = subprocess.run(
        ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}",
         f"-d{max(1, round(seconds))}s", f"http://127.0.0.1:{port}/json"],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError("load run had errors:\n" + output)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    assert match, output
    assert count, output
    return float(match.group(1)), int(count.group(1))


async def _client(port: int, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET /json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    done = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace"))
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            done += 1
    finally:
        counts.append(done)
        writer.close()


def run_python_loader(port: int, seconds: float) -> tuple[float, int]:
    """(requests/second, requests) from a keep-alive asyncio client (when wrk is missing)."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {int(LOAD_CPU)})
    counts: list[int] = []
    stop_at = time.monotonic() + seconds

    async def main() -> None:
        await asyncio.gather(*(_client(port, stop_at, counts) for _ in range(CONNECTIONS)))

    started = time.monotonic()
    asyncio.run(main())
    return sum(counts) / (time.monotonic() - started), sum(counts)


_TICK = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) used so far by every process of a process group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state ppid pgrp ... utime(12th) stime(13th).
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


# --------------------------------------------------------------------------- main


def check_same_result(results: dict[str, tuple[int, dict[str, str], Any]], limited: bool) -> None:
    """Every app of a group answers 200 with the same envelope (and limit headers if limited)."""
    bodies = {name: body for name, (_, _, body) in results.items()}
    first = next(iter(bodies.values()))
    for name, (status, headers, body) in results.items():
        assert status == 200, (name, status)
        assert body == first, (name, body, first)
        if limited:
            assert headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit"), (
                name,
                headers,
            )


_WHY = {
    "fastapi-bare-serverlog": "The bare app with uvicorn's own access log (a text line per "
    "request, no request id): the log a bare deployment usually keeps.",
    "flask-bare-serverlog": "The bare app with gunicorn's own access log (a text line per "
    "request, no request id): the log a bare deployment usually keeps.",
    "fastapi-floor": "The floor: a hand-written middleware with only a request id, two headers "
    "and an unstructured JSON access line (no envelope, body cap, redaction or log pipeline): "
    "how close any adapter that keeps an access log can come to the bare framework.",
    "flask-floor": "The floor: hand-written hooks with only a request id, two headers and an "
    "unstructured JSON access line (no envelope, body cap, redaction or log pipeline).",
    "fastapi-bare": "The bare app does nothing per request; backendkit adds a request id, "
    "security headers, the error envelope around the call and a JSON access-log line per "
    "request (the -nolog row shows the cost of that line), all in pure ASGI middleware.",
    "flask-bare": "The bare app does nothing per request; backendkit adds a request id, "
    "security headers, error handling and a JSON access-log line per request (the -nolog row "
    "shows the cost of that line).",
    "fastapi-basehttpmiddleware": "The same per-request work written as a Starlette "
    "BaseHTTPMiddleware.",
    "fastapi-slowapi": "slowapi keeps no access log and adds no request id, security headers or "
    "error envelope; the limiter itself is cheaper in backendkit (see the -nolog row and the "
    "rate limiter benchmark).",
    "flask-limiter": "Flask-Limiter keeps no access log and adds no request id, security headers "
    "or error envelope; the limiter itself is cheaper in backendkit (see the -nolog row and the "
    "rate limiter benchmark).",
}


def _add_notes(report: dict[str, Any]) -> None:
    """Put why backendkit is slower into each row it loses to (item 12 of the runner)."""
    for name, row in report.items():
        if "backendkit" in name:
            continue
        ours = [r for n, r in report.items() if "backendkit" in n and r["group"] == row["group"]]
        if any(
            r["rps"] < row["rps"] or r["cpu_us_per_request"] > row["cpu_us_per_request"]
            for r in ours
        ):
            row["note"] = _WHY.get(name, "backendkit does more per request than this app.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--groups", nargs="*", default=list(GROUPS), choices=list(GROUPS))
    args = parser.parse_args()
    # wrk takes whole seconds only. --quick keeps two seconds of load per app but as two
    # alternating 1 s rounds (less biased by load that comes and goes on a busy machine);
    # the warm-up needs no precision (it only has to run every code path once the server
    # is up), so --quick warms up with a quarter second of the asyncio client.
    # Full mode: 17 apps x (1 s + 3 x 4 s) plus start-ups, about 4 minutes (budget 360 s).
    seconds, rounds, warmup = (1.0, 2, 0.25) if args.quick else (4.0, 3, 1.0)
    started = time.perf_counter()
    loader = run_wrk if shutil.which("wrk") else run_python_loader
    print(f"uvicorn options: {' '.join(_uvicorn_fast_path()) or '(h11, asyncio)'}")
    print(
        f"server on CPU {SERVER_CPU}, load generator "
        f"({'wrk' if loader is run_wrk else 'python asyncio'}, {CONNECTIONS} connections) "
        f"on CPU {LOAD_CPU}; {rounds} round(s) of {seconds:.0f}s per app, median reported"
    )
    report: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-adapters-") as tmp:
        log_dir = Path(tmp)
        for group in args.groups:
            entries = []
            for name, module in GROUPS[group]:
                if module is not None and importlib.util.find_spec(module) is None:
                    print(f"  [{group}] skipping {name}: {module} is not installed")
                    unavailable[name] = f"{module} is not installed in this environment"
                    continue
                entries.append(name)
            if len(entries) < 2:
                continue
            with serve_all(entries, log_dir) as servers:
                check_same_result({n: fetch(p) for n, (p, _) in servers.items()}, "limit" in group)
                for port, _ in servers.values():
                    run_python_loader(port, warmup) if warmup < 1 else loader(port, warmup)
                rates: dict[str, list[float]] = {name: [] for name in entries}
                cpu: dict[str, list[float]] = {name: [] for name in entries}
                for _ in range(rounds):
                    for name, (port, pgid) in servers.items():
                        before = group_cpu_seconds(pgid)
                        rate, count = loader(port, seconds)
                        rates[name].append(rate)
                        cpu[name].append((group_cpu_seconds(pgid) - before) / count * 1e6)
            base_rate = statistics.median(rates[entries[0]])
            base_cpu = statistics.median(cpu[entries[0]])
            print(f"\n{group} (baseline: {entries[0]})")
            print(
                f"  {'app':32s} {'req/s':>10s} {'ratio':>6s} {'server CPU/req':>15s} {'ratio':>6s}"
            )
            for name in entries:
                rate, per_request = statistics.median(rates[name]), statistics.median(cpu[name])
                report[name] = {
                    "group": group,
                    "rps": round(rate, 1),
                    "rps_ratio": round(rate / base_rate, 3),
                    "cpu_us_per_request": round(per_request, 1),
                    "cpu_ratio": round(base_cpu / per_request, 3),
                }
                print(
                    f"  {name:32s} {rate:10.0f} {rate / base_rate:5.2f}x "
                    f"{per_request:12.1f} us {base_cpu / per_request:5.2f}x"
                )
    _add_notes(report)
    print(f"\n({time.perf_counter() - started:.1f} s in total)")
    if args.json:
        # Top-level keys are app names (the runner reads each app's row), and "unavailable"; the
        # reasons for a loss go into the rows as "note".
        args.json.write_text(json.dumps({**report, "unavailable": unavailable}, indent=2))


if __name__ == "__main__":
    main()
