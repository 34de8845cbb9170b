"""Rate limiter: overhead against `limits`, Redis round trips and a hung Redis against peers.

    python benchmarks/bench_ratelimit.py [--quick] [--json out.json] [--redis-url URL]
                                         [--hung-cap SECONDS]

Run it with the benchmark environment (``.venv-bench/bin/python``), which holds the peers
(flask-limiter, slowapi) next to backendkit. Three parts:

1. Python cost per hit, backendkit's ``RateLimiter.hit`` against calling `limits` directly
   with the same limit and strategy, on memory and on Redis. `limits`' ``hit`` answers
   only allowed/denied; a response with headers also needs ``get_window_stats``, so both
   figures are given. Keys rotate over 1,000 clients and the limit is never reached, so
   the limiter's cost is timed, not its denials. Decisions are compared before timing.
2. Redis round trips per request with rate-limit headers, for one and two limits per
   rule: backendkit against flask-limiter and slowapi configured the same way (same
   limits, strategy, headers on). Commands are counted on the client side by a loopback
   proxy; the remaining count each reports is checked equal.
3. A hung Redis (accepts, never answers): time to a decision for backendkit (default
   timeouts) and for flask-limiter with ``swallow_errors`` and the in-memory fallback.
   The peer waits out its own socket timeouts (about 10 s on the machine measured, with
   ``--hung-cap`` 40 s in full mode), so it runs in a subprocess killed at ``--hung-cap``;
   ``--quick`` caps it at 3 s and reports only "> 3 s".

Rounds alternate between the sides; the best round of each is reported, with ratios
(backendkit / other: below 1.0 means backendkit is faster).
"""

# No `from __future__ import annotations`: FastAPI resolves slowapi's route annotations.

import argparse
import contextlib
import gc
import json
import os
import platform
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # for the counting proxy and the hung server in tests/

import limits
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import STRATEGIES as LIMITS_STRATEGIES

from backendkit.ratelimit import RateLimiter, Rule

STRATEGIES = ("sliding-window-counter", "fixed-window", "moving-window")
BIG = "100000/hour"  # never reached in the timing loops
KEYS = [f"client-{i}" for i in range(1000)]


# --------------------------------------------------------------------------- helpers


def _one_round(fn: Callable[[str], Any], iterations: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) per call, for one round."""
    keys = KEYS
    count = len(keys)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(iterations):
        fn(keys[i % count])
    return (
        (time.perf_counter() - wall) / iterations,
        (time.process_time() - cpu) / iterations,
    )


def _race(
    sides: dict[str, Callable[[str], Any]], iterations: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Best wall and best CPU seconds per call of each side, rounds alternating.

    CPU time of this process is the Python overhead (what the client spends, excluding
    waiting for Redis and time lost to other processes on a busy machine); wall time is
    the latency a request sees.
    """
    wall = dict.fromkeys(sides, float("inf"))
    cpu = dict.fromkeys(sides, float("inf"))
    for _ in range(rounds):
        for name, fn in sides.items():
            w, c = _one_round(fn, iterations)
            wall[name] = min(wall[name], w)
            cpu[name] = min(cpu[name], c)
    return wall, cpu


def _delete_prefix(url: str, prefix: str) -> None:
    from tests._services import delete_prefixed_keys

    delete_prefixed_keys(url, prefix)


def _redis_up(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        ok = bool(client.ping())
        client.close()
        return ok
    except redis.RedisError:
        return False


# --------------------------------------------------------------------------- 1. overhead


def _same_decisions(ours: RateLimiter, theirs: Any, strategy: str) -> bool:
    """Seven hits on a fresh key with 5/minute: both allow the first five only."""
    key = f"check-{uuid.uuid4().hex[:8]}"
    rule = Rule("bench-check", "5/minute", strategy=strategy)  # type: ignore[arg-type]
    item = limits.parse("5/minute")
    mine = [ours.hit(rule, key).allowed for _ in range(7)]
    other = [theirs.hit(item, key) for _ in range(7)]
    return mine == other == [True] * 5 + [False] * 2


def bench_overhead(
    storage: str, strategy: str, iterations: int, rounds: int, redis_url: str | None = None
) -> dict[str, Any]:
    """backendkit hit (with headers) against limits hit, and hit + window stats."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    if storage == "memory":
        ours = RateLimiter("memory://")
        theirs = LIMITS_STRATEGIES[strategy](MemoryStorage())
    else:
        assert redis_url is not None
        ours = RateLimiter(redis_url, key_prefix=prefix + "bk:")
        theirs = LIMITS_STRATEGIES[strategy](RedisStorage(redis_url, key_prefix=prefix + "lim"))
    try:
        same = _same_decisions(ours, theirs, strategy)
        rule = Rule("bench", BIG, strategy=strategy)  # type: ignore[arg-type]
        item = limits.parse(BIG)
        hit = ours.hit
        lhit, lstats = theirs.hit, theirs.get_window_stats
        wall, cpu = _race(
            {
                "backendkit_hit": lambda key: hit(rule, key),
                "backendkit_hit_headers": lambda key: hit(rule, key).headers(),
                "limits_hit": lambda key: lhit(item, key),
                "limits_hit_stats": lambda key: (lhit(item, key), lstats(item, key)),
            },
            iterations,
            rounds,
        )
    finally:
        ours.close()
        if storage == "redis" and redis_url:
            _delete_prefix(redis_url, prefix)
    return {
        "storage": storage,
        "strategy": strategy,
        "same_decisions": same,
        "cpu_seconds_per_call": cpu,
        "wall_seconds_per_call": wall,
        # What benchmarks/_report.py reads: CPU of this process, the Python cost per hit,
        # which a busy machine disturbs far less than wall time.
        "seconds_per_call": cpu,
        "cpu_ratio_hit_vs_limits_hit": cpu["backendkit_hit"] / cpu["limits_hit"],
        "cpu_ratio_headers_vs_limits_hit_stats": cpu["backendkit_hit_headers"]
        / cpu["limits_hit_stats"],
        "wall_ratio_hit_vs_limits_hit": wall["backendkit_hit"] / wall["limits_hit"],
        "wall_ratio_headers_vs_limits_hit_stats": wall["backendkit_hit_headers"]
        / wall["limits_hit_stats"],
    }


# --------------------------------------------------------------------------- 2. round trips


def _close_proxy(proxy: Any) -> None:
    """Close the counting proxy without waiting on its relay threads.

    ``CountingProxy.close`` only ``close()``s the sockets, which on Linux does not wake a
    thread blocked in ``recv`` on them: each of its two relay threads then sits out the
    2 s ``join`` timeout, 4 s of idle waiting per proxy (per peer x strategy x limits).
    ``shutdown`` does wake them, so the joins return at once.
    """
    for sock in list(proxy._sockets):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    proxy.close()


def _ours(url: str, prefix: str, limits_text: str, strategy: str) -> Callable[[], str]:
    limiter = RateLimiter(url, key_prefix=prefix)
    rule = Rule("bench-rt", limits_text, strategy=strategy)  # type: ignore[arg-type]

    def request() -> str:
        return limiter.hit(rule, "bench-client").headers()["RateLimit-Remaining"]

    return request


def _flask_limiter_app(url: str, prefix: str, limits_text: str, strategy: str, **extra: Any) -> Any:
    from flask import Flask
    from flask_limiter import Limiter

    app = Flask("bench")
    limiter = Limiter(
        key_func=lambda: "bench-client",
        app=app,
        storage_uri=url,
        strategy=strategy,
        headers_enabled=True,
        key_prefix=prefix,
        **extra,
    )

    @app.route("/r")
    @limiter.limit(limits_text)
    def endpoint() -> str:
        return "ok"

    return app


def _flask_limiter(url: str, prefix: str, limits_text: str, strategy: str) -> Callable[[], str]:
    client = _flask_limiter_app(url, prefix, limits_text, strategy).test_client()

    def request() -> str:
        return str(client.get("/r").headers["X-RateLimit-Remaining"])

    return request


def _slowapi(url: str, prefix: str, limits_text: str, strategy: str) -> Callable[[], str]:
    from fastapi import FastAPI, Request, Response
    from slowapi import Limiter, _rate_limit_exceeded_handler
    from slowapi.errors import RateLimitExceeded
    from starlette.testclient import TestClient

    limiter = Limiter(
        key_func=lambda request: "bench-client",
        storage_uri=url,
        strategy=strategy,
        headers_enabled=True,
        key_prefix=prefix,
    )
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]

    @app.get("/r")
    @limiter.limit(limits_text)
    async def endpoint(request: Request, response: Response) -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)

    def request() -> str:
        return str(client.get("/r").headers["X-RateLimit-Remaining"])

    return request


def bench_round_trips(redis_url: str, requests: int) -> list[dict[str, Any]]:
    """Commands per request with headers, counted by a loopback proxy (after one warm-up
    request that sets up the connection and loads scripts)."""
    from urllib.parse import urlsplit

    from tests.integration.ratelimit._proxy import CountingProxy

    parts = urlsplit(redis_url)
    rows = []
    factories = {"backendkit": _ours, "flask-limiter": _flask_limiter, "slowapi": _slowapi}
    for strategy in ("fixed-window", "sliding-window-counter", "moving-window"):
        for limits_text in ("100/minute", "100/minute;1000/hour"):
            row: dict[str, Any] = {"strategy": strategy, "limits": limits_text}
            remaining = {}
            for name, factory in factories.items():
                proxy = CountingProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
                prefix = f"bench:{uuid.uuid4().hex[:8]}:"
                url = f"redis://127.0.0.1:{proxy.port}{parts.path or '/0'}"
                try:
                    request = factory(url, prefix, limits_text, strategy)
                    request()
                    proxy.clear()
                    for _ in range(requests):
                        remaining[name] = request()
                    commands = proxy.commands
                    row[name] = len(commands) / requests
                    row[name + "_commands"] = sorted(set(commands))
                finally:
                    _close_proxy(proxy)
                    _delete_prefix(redis_url, prefix)
            row["remaining"] = remaining
            row["same_remaining"] = len(set(remaining.values())) == 1
            rows.append(row)
    return rows


# --------------------------------------------------------------------------- 3. hung Redis


def _hung_peer(url: str) -> None:
    """Child process: one flask-limiter request against a hung Redis; print the seconds."""
    app = _flask_limiter_app(
        url,
        "bench:",
        "100/minute",
        "fixed-window",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    client = app.test_client()
    start = time.perf_counter()
    status = client.get("/r").status_code
    print(json.dumps({"seconds": time.perf_counter() - start, "status": status}))


def bench_hung(cap: float) -> dict[str, Any]:
    """Time to a decision with a hung Redis: backendkit vs flask-limiter (swallow_errors)."""
    from tests._services import HungServer

    server = HungServer()
    try:
        limiter = RateLimiter(server.url)  # default: 0.25 s timeouts, breaker after 1 failure
        rule = Rule("bench-hung", "100/minute")
        start = time.perf_counter()
        first = limiter.hit(rule, "client")
        first_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(1000):
            limiter.hit(rule, "client")
        open_seconds = (time.perf_counter() - start) / 1000
        ours = {
            "first_decision_seconds": first_seconds,
            "breaker_open_seconds_per_decision": open_seconds,
            "allowed": first.allowed,
            "source": first.source,
            "connections": server.accepted,
        }
        limiter.close()
        start = time.perf_counter()
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--hung-peer", server.url],
                capture_output=True,
                text=True,
                timeout=cap,
                check=False,
            )
            peer: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
            peer["capped"] = False
        except subprocess.TimeoutExpired:
            peer = {"seconds": time.perf_counter() - start, "capped": True}
        peer["cap"] = cap
    finally:
        server.close()
    return {"backendkit": ours, "flask_limiter_swallow_errors": peer}


# --------------------------------------------------------------------------- main

_HIT_WHY = (
    "backendkit's hit returns the whole decision (allowed, remaining, reset, retry-after; on "
    "Redis computed by one Lua script on the server's clock), while limits' hit returns only "
    "a boolean; once headers are needed (hit + get_window_stats) backendkit is the faster one."
)
_HEADERS_WHY = (
    "result.headers() builds the RateLimit-* header dict from the decision on every call; "
    "limits' get_window_stats returns two numbers and leaves the headers to the caller."
)


def _notes(overhead: list[dict[str, Any]], trips: list[dict[str, Any]]) -> dict[str, str]:
    """Why backendkit is slower, for each case where it is (item 12 of the runner)."""
    notes: dict[str, str] = {}
    for row in overhead:
        case = f"{row['storage']}, {row['strategy']}"
        if row["cpu_ratio_hit_vs_limits_hit"] > 1.0 or row["wall_ratio_hit_vs_limits_hit"] > 1.0:
            notes[f"{case}: hit"] = _HIT_WHY
        if (
            row["cpu_ratio_headers_vs_limits_hit_stats"] > 1.0
            or row["wall_ratio_headers_vs_limits_hit_stats"] > 1.0
        ):
            notes[f"{case}: hit + headers"] = _HEADERS_WHY
    for row in trips:
        if any(row["backendkit"] > row[peer] for peer in ("flask-limiter", "slowapi")):
            notes[f"round trips, {row['strategy']}, {row['limits']}"] = (
                "one script call per request is the minimum; a peer below it did not "
                "check every limit"
            )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BACKENDKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--hung-cap", type=float, help="seconds to wait for the hung peer")
    parser.add_argument("--hung-peer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hung_peer:
        _hung_peer(args.hung_peer)
        return 0

    # Full mode fits the runner's 150 s budget: ~6M memory hits, ~180k Redis hits, the cap.
    mem_iter, mem_rounds = (10_000, 3) if args.quick else (100_000, 5)
    redis_iter, redis_rounds = (1_000, 3) if args.quick else (3_000, 5)
    # The peer never answers on its own: the cap only bounds how long "> cap" takes to show.
    cap = args.hung_cap or (3.0 if args.quick else 40.0)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "limits": limits.__version__,
        "quick": args.quick,
    }

    print(f"python {platform.python_version()}, limits {limits.__version__}")
    print("\n1. Cost per hit, best round (ratio < 1.0: backendkit is faster)")
    print("   bk = RateLimiter.hit; +hdr = with result.headers(); limits = strategy.hit;")
    print("   +stats = with get_window_stats (what headers need). CPU = this process only.")
    redis_ok = _redis_up(args.redis_url)
    overhead = []
    for storage in ("memory", "redis"):
        if storage == "redis" and not redis_ok:
            print(f"redis    skipped: {args.redis_url} does not answer")
            results["unavailable"] = {"Redis": "the Redis server does not answer"}
            continue
        memory = storage == "memory"
        iterations = mem_iter if memory else redis_iter
        rounds = mem_rounds if memory else redis_rounds
        rows = [
            bench_overhead(storage, strategy, iterations, rounds, args.redis_url)
            for strategy in STRATEGIES
        ]
        overhead += rows
        for kind in ("cpu", "wall"):
            print(
                f"{storage:8} {kind + ' us per hit':23} {'bk':>9} {'bk+hdr':>9} {'limits':>9} "
                f"{'lim+stats':>9} {'ratio':>6} {'hdr':>6}"
            )
            for row in rows:
                best = {k: v * 1e6 for k, v in row[f"{kind}_seconds_per_call"].items()}
                print(
                    f"{'':8} {row['strategy']:23} {best['backendkit_hit']:9.2f} "
                    f"{best['backendkit_hit_headers']:9.2f} {best['limits_hit']:9.2f} "
                    f"{best['limits_hit_stats']:9.2f} "
                    f"{row[f'{kind}_ratio_hit_vs_limits_hit']:6.2f} "
                    f"{row[f'{kind}_ratio_headers_vs_limits_hit_stats']:6.2f}"
                    + ("" if row["same_decisions"] else "  DECISIONS DIFFER")
                )
    results["overhead"] = overhead
    print(f"   ({time.perf_counter() - started:.1f} s so far)")

    if redis_ok:
        print("\n2. Redis commands per request with headers (client side, steady state)")
        print(f"{'strategy':24} {'limits':22} {'backendkit':>10} {'flask-lim':>10} {'slowapi':>10}")
        trips = bench_round_trips(args.redis_url, 5 if args.quick else 20)
        for row in trips:
            print(
                f"{row['strategy']:24} {row['limits']:22} {row['backendkit']:10.1f} "
                f"{row['flask-limiter']:10.1f} {row['slowapi']:10.1f}"
                + ("" if row["same_remaining"] else f"  REMAINING DIFFERS {row['remaining']}")
            )
        results["round_trips"] = trips
        print(f"   ({time.perf_counter() - started:.1f} s so far)")

    print(f"\n3. Hung Redis (accepts, never answers): time to a decision (peer capped at {cap} s)")
    hung = bench_hung(cap)
    ours, peer = hung["backendkit"], hung["flask_limiter_swallow_errors"]
    print(
        f"backendkit: first decision {ours['first_decision_seconds']:.3f} s "
        f"({'allowed' if ours['allowed'] else 'denied'} by policy), then "
        f"{ours['breaker_open_seconds_per_decision'] * 1e6:.1f} us per decision while the "
        f"breaker is open ({ours['connections']} connection in total)"
    )
    if peer["capped"]:
        print(f"flask-limiter (swallow_errors, in-memory fallback): > {cap:.0f} s (killed)")
    else:
        print(
            f"flask-limiter (swallow_errors, in-memory fallback): {peer['seconds']:.3f} s "
            f"(HTTP {peer['status']})"
        )
    results["hung"] = hung
    results["notes"] = _notes(overhead, trips if redis_ok else [])
    print(f"   ({time.perf_counter() - started:.1f} s in total)")

    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
