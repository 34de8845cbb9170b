"""Throughput of a JSON endpoint: backendkit's adapters against the bare frameworks and the
stacks users assemble today for the same duties.

Every app answers ``GET /json`` with the same bytes (checked before timing), per framework:

- FastAPI under uvicorn (one worker, ``--no-access-log``, httptools and uvloop when
  installed, as with ``uvicorn[standard]``): bare; ``install(app, kit)`` (pure ASGI
  middleware: request id, log context, security headers, error envelope, body cap, one JSON
  access-log line per request written to a file); ``-nolog``, the same with the log level
  at WARNING, which filters that line out; ``-recipe``, FastAPI + asgi-correlation-id + a
  structlog access-log middleware (``_peer_fastapi.py``); ``-backendkit-limit`` against
  ``-recipe-slowapi`` (the recipe plus slowapi; same limit, memory storage,
  sliding-window-counter, headers on).
- Flask under gunicorn (one ``gthread`` worker, 8 threads, keep-alive): bare;
  ``BackendKit(app)``; ``-nolog``; ``-recipe``, a request-id recipe + structlog
  (``_peer_flask.py``); ``-backendkit-limit`` (``@rate_limit``) against
  ``-recipe-limiter`` (the recipe plus Flask-Limiter, same options).

On this 2-core machine the servers are pinned to CPU 1 and the load generator to CPU 0
(``taskset``). The load generator is ``wrk`` (``apt-get install wrk``) when present, else a
small asyncio keep-alive client in this file. All apps of a framework are served at once
and measured round by round (A, B, C, A, B, C, ...), many short rounds (``wrk`` counts
whole seconds: 1 s each), so load that comes and goes on a shared machine falls on all of
them. Two figures per app and round: requests/second (wall clock) and the server's CPU
time per request (user + system of its processes' threads, from /proc, in nanoseconds),
which other work on the machine disturbs less. Each app is reported as the median of its
rounds with the quartiles; a comparison (``COMPARISONS``: ours against the recipe, target
1.0x; ``-nolog`` against bare, target 0.90x) whose quartile ranges overlap is "same",
otherwise the ratio of the medians (``_rounds.py``). Last, ``_adapter_duties.py`` measures
in-process what each duty costs in microseconds of CPU per request, and
``_adapter_instructions.py`` counts each whole app's instructions per request with
callgrind, the one figure the machine's other load cannot move.

Peers that are not installed are listed under ``"unavailable"`` in the JSON, with the
reason: run with ``.venv-bench/bin/python``.

    python benchmarks/bench_adapters.py [--quick] [--json out.json] [--sets fastapi flask]
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
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _adapter_duties import frameworks
from _adapter_duties import measure as measure_duties
from _adapter_instructions import available as callgrind_available
from _adapter_instructions import measure as measure_instructions
from _rounds import Comparison, compare_apps, cpu_seconds, summary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER_CPU, LOAD_CPU = "1", "0"
CONNECTIONS = 32

#: The apps served together and measured round by round, per framework; each entry:
#: (name, the module it needs, or None for what backendkit's own environment has).
SETS: dict[str, list[tuple[str, str | None]]] = {
    "fastapi": [
        ("fastapi-bare", None),
        ("fastapi-backendkit", None),
        ("fastapi-backendkit-nolog", None),
        ("fastapi-recipe", "asgi_correlation_id"),
        ("fastapi-backendkit-limit", None),
        ("fastapi-recipe-slowapi", "slowapi"),
    ],
    "flask": [
        ("flask-bare", None),
        ("flask-backendkit", None),
        ("flask-backendkit-nolog", None),
        ("flask-recipe", None),
        ("flask-backendkit-limit", None),
        ("flask-recipe-limiter", "flask_limiter"),
    ],
}

COMPARISONS: list[Comparison] = [
    (f"{fw}-backendkit", f"{fw}-recipe", 1.0, "everything on, against the stack users build")
    for fw in SETS
] + [
    (f"{fw}-backendkit-limit", peer, 1.0, "everything on plus a rate limit, against the stack "
     "users build with its limiter")
    for fw, peer in (("fastapi", "fastapi-recipe-slowapi"), ("flask", "flask-recipe-limiter"))
] + [
    (f"{fw}-backendkit-nolog", f"{fw}-bare", 0.90, "without the access-log line, against the "
     "bare framework")
    for fw in SETS
] + [
    (f"{fw}-backendkit", f"{fw}-bare", None, "everything on, against the bare framework")
    for fw in SETS
]  # fmt: skip


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


def _server_command(name: str, port: int) -> list[str]:
    if name.startswith("fastapi"):
        return [
            sys.executable, "-m", "uvicorn", "--factory", "_adapter_apps:app",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            "--log-level", "warning", "--workers", "1", *_uvicorn_fast_path(),
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", "_adapter_apps:app()",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
        "--threads", "8", "--log-level", "warning",
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
                [str(HERE), str(ROOT / "src"), env.get("PYTHONPATH", "")]
            )
            command = ["taskset", "-c", SERVER_CPU, *_server_command(name, port)]
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


def fetch(port: int) -> tuple[int, dict[str, str], bytes]:
    """One GET /json: status, headers (lower-case) and the body's bytes."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, response.read()


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


def group_pids(pgid: int) -> list[int]:
    """The processes of a process group (a server and its workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the command name: state ppid pgrp ...
            pids.append(int(stat.parent.name))
    return pids


# --------------------------------------------------------------------------- main


def check_same_result(results: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
    """Every app of a set answers 200 with the same body bytes; limited apps send limit
    headers and every app but the bare one sends ``X-Request-ID``."""
    first = next(iter(results.values()))[2]
    for name, (status, headers, body) in results.items():
        assert status == 200, (name, status)
        assert body == first, (name, body, first)
        if "limit" in name or "slowapi" in name:
            assert headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit"), name
        if not name.endswith("-bare"):
            assert headers.get("x-request-id"), (name, headers)
            assert headers.get("x-content-type-options") == "nosniff", (name, headers)


#: Why backendkit's app is slower than the app compared with, shown only when it is.
_WHY = {
    "recipe": "backendkit does more per request than the recipe: it validates the incoming "
    "request id, renders every error as the envelope, caps the body and redacts secrets in "
    "log lines; see the per-duty breakdown for what each duty costs.",
    "bare": "The bare app does nothing per request; the per-duty breakdown below shows what "
    "each of backendkit's duties costs.",
}


def measure_set(
    entries: list[str], log_dir: Path, loader: Any, seconds: float, rounds: int, warmup: float
) -> dict[str, dict[str, list[float]]]:
    """Serve ``entries`` together; run them round by round; each app's rates and CPU/request."""
    rates: dict[str, list[float]] = {name: [] for name in entries}
    cpu: dict[str, list[float]] = {name: [] for name in entries}
    with serve_all(entries, log_dir) as servers:
        check_same_result({n: fetch(p) for n, (p, _) in servers.items()})
        for port, _ in servers.values():
            run_python_loader(port, warmup) if warmup < 1 else loader(port, warmup)
        pids = {name: group_pids(pgid) for name, (_, pgid) in servers.items()}
        for _ in range(rounds):  # A, B, C, A, B, C, ...: the machine's load falls on all
            for name, (port, _) in servers.items():
                before = cpu_seconds(pids[name])
                rate, count = loader(port, seconds)
                rates[name].append(rate)
                cpu[name].append((cpu_seconds(pids[name]) - before) / count * 1e6)
    return {name: {"rps": rates[name], "cpu": cpu[name]} for name in entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=list(SETS))
    parser.add_argument("--rounds", type=int, help="rounds per app (default 12, quick 3)")
    args = parser.parse_args()
    # wrk takes whole seconds: rounds of 1 s, many of them, interleaved. Full mode: 12 apps
    # x 12 rounds x ~1.1 s plus start-ups and the duty breakdown, about 3.5 minutes.
    rounds = args.rounds or (3 if args.quick else 12)
    seconds, warmup = 1.0, (0.25 if args.quick else 1.0)
    started = time.perf_counter()
    loader = run_wrk if shutil.which("wrk") else run_python_loader
    print(f"uvicorn options: {' '.join(_uvicorn_fast_path()) or '(h11, asyncio)'}")
    print(
        f"server on CPU {SERVER_CPU}, load generator "
        f"({'wrk' if loader is run_wrk else 'python asyncio'}, {CONNECTIONS} connections) "
        f"on CPU {LOAD_CPU}; {rounds} interleaved rounds of {seconds:.0f}s per app"
    )
    apps: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-adapters-") as tmp:
        for name_of_set in args.sets:
            entries = []
            for name, module in SETS[name_of_set]:
                if module is not None and importlib.util.find_spec(module) is None:
                    unavailable[name] = f"{module} is not installed in this environment"
                    continue
                entries.append(name)
            measured = measure_set(entries, Path(tmp), loader, seconds, rounds, warmup)
            print(f"\n{name_of_set}: median [quartiles] of {rounds} rounds")
            for name, figures in measured.items():
                rps, cpu = summary(figures["rps"]), summary(figures["cpu"])
                apps[name] = {"set": name_of_set, "rps": rps, "cpu_us": cpu}
                print(
                    f"  {name:30s} {rps['median']:9,.0f} req/s [{rps['q1']:,.0f}-{rps['q3']:,.0f}]"
                    f"  {cpu['median']:7.1f} us CPU [{cpu['q1']:.1f}-{cpu['q3']:.1f}]"
                )
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {int(SERVER_CPU)})  # in-process figures on the server's core
        os.environ["BENCH_LOG_FILE"] = str(Path(tmp) / "in-process.log")
        duties = measure_duties(quick=args.quick)
        in_process = frameworks(quick=args.quick, unavailable=unavailable)
        instructions: dict[str, dict[str, int]] = {}
        missing = callgrind_available()
        if missing is None:
            instructions = measure_instructions(Path(tmp))
        else:
            unavailable["instructions per request"] = missing
    rows = compare_apps(
        apps, COMPARISONS, lambda other: _WHY["bare" if other.endswith("-bare") else "recipe"]
    )
    print("\ncomparisons (ours / other; 'same' when the quartile ranges overlap)")
    for row in rows:
        shown = {
            k: "same" if row[k]["verdict"] == "same" else f"{row[k]['ratio']:.2f}x"
            for k in ("rps", "cpu")
        }
        print(
            f"  {row['ours']:30s} vs {row['other']:24s} throughput {shown['rps']:>6s}"
            f"  CPU {shown['cpu']:>6s}  (target {row['target'] or '-'})"
        )
    print("\nper-duty CPU per request (us), in-process:")
    for duty, value in duties.items():
        print(f"  {duty:24s} {value:6.2f}")
    print("\nwhole apps in one process, CPU per request (us):")
    for framework, figures in in_process.items():
        print(f"  {framework}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
    print("\ninstructions per request (callgrind), in-process:")
    for framework, figures in instructions.items():
        print(f"  {framework}: " + ", ".join(f"{k} {v:,}" for k, v in figures.items()))
    print(f"\n({time.perf_counter() - started:.1f} s in total)")
    if args.json:
        result = {
            "rounds": rounds,
            "seconds_per_round": seconds,
            "loader": "wrk" if loader is run_wrk else "python asyncio",
            "connections": CONNECTIONS,
            "apps": apps,
            "comparisons": rows,
            "duties": duties,
            "in_process": in_process,
            "instructions": instructions,
            "unavailable": unavailable,
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
