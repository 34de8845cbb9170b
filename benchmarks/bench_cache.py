"""Cache benchmarks: backendkit.cache against raw redis-py and against peers.

    python benchmarks/bench_cache.py [--quick] [--json out.json] [--redis-url URL]

Run it from ``/work/main/.venv-bench`` (backendkit, cashews, aiocache); fastapi-cache2
pins ``redis<5`` and runs from ``/work/main/.venv-bench-fc2`` in a subprocess. A peer that
is not installed (or whose environment is missing) is listed under ``"unavailable"`` in the
JSON with a one-line reason; a peer that fails makes the script exit non-zero.

Sections (absolute numbers and ratios, measured in the same run):

1. A Redis hit through ``@cached`` against a raw ``GET`` plus pydantic decode of the same
   payload (sync and async; small and 50 KB payloads). Aim: <= 1.15x.
2. Hits and misses of every peer's async decorator on the same typed payloads, interleaved
   round by round (the fastapi-cache2 worker aside); each peer is first checked to return
   an equal value of the same type on a hit.
3. 200 concurrent cold requests (a 200 ms loader) in 1 process and in 4 processes: loader
   calls and Redis commands, counted client-side by a counting proxy per process.
4. Hit latency under concurrency (p50, p99 of every call): concurrent callers of one key
   share one read, so a hit can wait for another caller's read (``_cache_latency.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from _cache_latency import bench_hit_latency
from _cache_peers import (
    HIT_VARIANTS,
    PAYLOADS,
    PEERS,
    STAMPEDE_VARIANTS,
    TYPES,
    same,
)
from tests.integration.cache._proxy import CountingProxy

FC2_PYTHON = ROOT / ".venv-bench-fc2" / "bin" / "python"
CALLERS = 200
LOAD_SECONDS = 0.2
# redis-py's pools hold at most 100 connections and fail beyond (redis-py 8); every peer
# gets the same larger pool so 200 concurrent callers measure the libraries, not the pool.
POOL = "?max_connections=1000"


# --- timing helpers ------------------------------------------------------------------------


def _time_sync(fn: Callable[[], Any], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


async def _time_async(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n


def _us(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def _cleanup(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
    finally:
        client.close()


def _prefix() -> str:
    return f"bkbench:{uuid.uuid4().hex[:10]}:"


# --- 1. hit vs raw GET + decode --------------------------------------------------------------


def _warm_l1(cache: Any, call: Any, entries: int) -> None:
    """Call ``call`` until ``cache``'s L1 holds ``entries`` entries (its tracking connection
    is on by then), within 10 s; a benchmark of an L1 that never fills fails."""
    deadline = time.monotonic() + 10
    while cache.local_entries < entries:
        if time.monotonic() > deadline:
            raise RuntimeError("the cache's in-process L1 did not fill: is tracking refused?")
        call()
        time.sleep(0.01)


def bench_hit_vs_raw(url: str, quick: bool) -> list[dict[str, Any]]:
    """Our Redis hit against GET + TypeAdapter.validate_json of the same JSON.

    Two baselines: a plain redis-py client (library defaults), and a GET through the same
    connector the cache uses (its socket timeouts, no retries, breaker). Measurements are
    interleaved and the best of the repeats is kept (the least disturbed by other load).
    """
    rows: list[dict[str, Any]] = []
    for kind in PAYLOADS:
        rows += _hit_vs_raw_one(url, kind, quick)
    return rows


def _hit_vs_raw_one(url: str, kind: str, quick: bool) -> list[dict[str, Any]]:
    import redis
    import redis.asyncio
    from pydantic import TypeAdapter

    from backendkit.cache import Cache, LocalCache
    from backendkit.redis import AsyncRedisConnector, RedisConnector

    rows: list[dict[str, Any]] = []
    # Many short interleaved rounds, best of each: on a shared machine a busy moment then
    # spoils a few rounds of every contender instead of one contender's whole block.
    repeats, base_n = (15, 100) if quick else (30, 300)
    n = base_n if kind == "small" else base_n // 4
    prefix = _prefix()
    payload = PAYLOADS[kind](1)
    adapter: TypeAdapter[Any] = TypeAdapter(TYPES[kind])
    raw_key = prefix + "raw"
    client = redis.Redis.from_url(url)
    client.set(raw_key, adapter.dump_json(payload))
    conn = RedisConnector(url)
    cache = Cache(url, key_prefix=prefix)
    # The opt-in in-process L1, on keys of its own (its tracking follows its prefix).
    l1_cache = Cache(url, key_prefix=prefix + "l1:", local_cache=LocalCache())

    @cache.cached(ttl=300, namespace="hit", returns=TYPES[kind])
    def hit(i: int) -> Any:
        return payload

    @cache.cached(ttl=300, namespace="ahit", returns=TYPES[kind])
    async def ahit(i: int) -> Any:
        return payload

    # One namespace for both: a new namespace's generation key would empty the whole L1.
    @l1_cache.cached(ttl=300, namespace="l1", returns=TYPES[kind])
    def l1_hit(i: int) -> Any:
        return payload

    @l1_cache.cached(ttl=300, namespace="l1", returns=TYPES[kind])
    async def l1_ahit(i: int) -> Any:
        return payload

    hit(1)
    assert same(hit(1), adapter.validate_json(client.get(raw_key)))  # type: ignore[arg-type]
    _warm_l1(l1_cache, lambda: l1_hit(1), 1)
    assert same(l1_hit(1), payload)
    sync_fns = {
        "raw": lambda: adapter.validate_json(client.get(raw_key)),  # type: ignore[arg-type]
        "conn": lambda: adapter.validate_json(conn.execute(lambda r: r.get(raw_key))),
        "ours": lambda: hit(1),
        "l1": lambda: l1_hit(1),
    }
    sync_t: dict[str, list[float]] = {k: [] for k in sync_fns}
    for _ in range(repeats):
        for name, fn in sync_fns.items():
            sync_t[name].append(_time_sync(fn, n))

    async def run_async() -> dict[str, list[float]]:
        aclient = redis.asyncio.Redis.from_url(url)
        aconn = AsyncRedisConnector(url)
        await ahit(1)
        assert same(await ahit(1), adapter.validate_json(await aclient.get(raw_key)))
        deadline = time.monotonic() + 10
        while l1_cache.local_entries < 2:  # the sync entry, and now the async one
            if time.monotonic() > deadline:
                raise RuntimeError("the cache's in-process L1 did not fill")
            await l1_ahit(1)
            await asyncio.sleep(0.01)
        assert same(await l1_ahit(1), payload)

        async def raw_get() -> Any:
            return adapter.validate_json(await aclient.get(raw_key))

        async def conn_get() -> Any:
            return adapter.validate_json(await aconn.execute(lambda r: r.get(raw_key)))

        fns = {"raw": raw_get, "conn": conn_get, "ours": lambda: ahit(1), "l1": lambda: l1_ahit(1)}
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeats):
            for name, fn in fns.items():
                times[name].append(await _time_async(fn, n))
        await aclient.aclose()
        await aconn.aclose()
        await cache.aclose()
        await l1_cache.aclose()
        return times

    async_t = asyncio.run(run_async())
    for mode, t in (("sync", sync_t), ("async", async_t)):
        raw_m, conn_m, ours_m, l1_m = min(t["raw"]), min(t["conn"]), min(t["ours"]), min(t["l1"])
        rows.append(
            {
                "payload": kind,
                "mode": mode,
                "bytes": len(adapter.dump_json(payload)),
                "raw_get_decode_us": _us(raw_m),
                "connector_get_decode_us": _us(conn_m),
                "backendkit_hit_us": _us(ours_m),
                "ratio_vs_raw": round(ours_m / raw_m, 3),
                "ratio_vs_connector": round(ours_m / conn_m, 3),
                "l1_hit_us": _us(l1_m),
                "l1_speedup_vs_raw": round(raw_m / l1_m, 1),
            }
        )
    cache.close()
    l1_cache.close()
    conn.close()
    client.close()
    _cleanup(url, prefix)
    return rows


# --- 2. peers: hits and misses ---------------------------------------------------------------


async def _peer_hits_misses(
    pairs: list[tuple[str, str]], url: str, quick: bool
) -> list[dict[str, Any]]:
    """Hits and misses of every (peer, variant) in ``pairs``, interleaved round by round.

    Each round times every peer's hits, then every peer's misses (fresh keys each time),
    so a busier moment of a shared machine falls on all of them alike; the best round of
    each is kept.
    """
    rows: list[dict[str, Any]] = []
    repeats, base_n = (3, 200) if quick else (7, 1000)
    for kind, make in PAYLOADS.items():
        n = base_n if kind == "small" else base_n // 4
        template = make(1)
        entries = []
        for peer_name, variant in pairs:
            prefix = _prefix()
            peer = PEERS[peer_name]()
            await peer.setup(url, prefix)

            async def loader(i: int, template: Any = template) -> Any:
                return template

            fn = peer.decorate(loader, kind, variant)
            first = await fn(1)
            second = await fn(1)
            entries.append(
                {
                    "row": {
                        "peer": peer_name + (f"[{variant}]" if variant else ""),
                        "payload": kind,
                        "types_ok": same(first, template) and same(second, template),
                        "hit_type": type(second).__name__,
                    },
                    "peer": peer,
                    "prefix": prefix,
                    "fn": fn,
                    "keys": iter(range(10, 10**9)),
                    "hits": [],
                    "misses": [],
                }
            )
        for _ in range(repeats):
            for e in entries:
                e["hits"].append(await _time_async(lambda fn=e["fn"]: fn(1), n))
            for e in entries:
                e["misses"].append(
                    await _time_async(lambda fn=e["fn"], c=e["keys"]: fn(next(c)), n)
                )
        for e in entries:
            await e["peer"].close()
            _cleanup(url, e["prefix"])
            rows.append(
                {**e["row"], "hit_us": _us(min(e["hits"])), "miss_us": _us(min(e["misses"]))}
            )
    return rows


# --- 3. stampede -----------------------------------------------------------------------------


async def _stampede_tasks(
    peer_name: str,
    variant: str,
    url: str,
    prefix: str,
    tasks: int,
    loads: Any,
    ready: Callable[[], Any] | None = None,
) -> list[bool]:
    peer = PEERS[peer_name]()
    await peer.setup(url, prefix)
    template = PAYLOADS["small"](1)

    async def loader(i: int) -> Any:
        with loads.get_lock():
            loads.value += 1
        await asyncio.sleep(LOAD_SECONDS)
        return template

    fn = peer.decorate(loader, "small", variant)
    start = asyncio.Event()

    async def call() -> bool:
        await start.wait()
        try:
            return same(await fn(1), template)
        except Exception:
            return False

    pending = [asyncio.create_task(call()) for _ in range(tasks)]
    await asyncio.sleep(0)
    if ready is not None:
        # Every caller of this process is parked on the start line: tell the parent, and
        # block until all the processes are there (nothing else must run meanwhile).
        ready()
    start.set()
    results = await asyncio.gather(*pending)
    await peer.close()
    return list(results)


def _stampede_child(
    peer_name: str,
    variant: str,
    url: str,
    prefix: str,
    tasks: int,
    loads: Any,
    start_line: Any,
    out: Any,
) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    results = asyncio.run(
        _stampede_tasks(
            peer_name,
            variant,
            url,
            prefix,
            tasks,
            loads,
            ready=lambda: start_line.wait(timeout=120),
        )
    )
    out.put(results)


def run_stampede(peer_name: str, variant: str, url: str, procs: int) -> dict[str, Any]:
    """200 concurrent cold calls in ``procs`` processes; loads and Redis commands."""
    ctx = multiprocessing.get_context("spawn")
    prefix = _prefix()
    proxies = [CountingProxy.for_url(url) for _ in range(procs)]
    loads = ctx.Value("i", 0)
    tasks = CALLERS // procs
    try:
        if procs == 1:
            ok = asyncio.run(
                _stampede_tasks(peer_name, variant, proxies[0].url() + POOL, prefix, tasks, loads)
            )
        else:
            # The children and this process meet at the barrier once every child has
            # imported, set its peer up and parked its callers; then all start together
            # (instead of a fixed sleep long enough for the slowest start-up).
            start_line = ctx.Barrier(procs + 1)
            out = ctx.Queue()
            workers = [
                ctx.Process(
                    target=_stampede_child,
                    args=(
                        peer_name,
                        variant,
                        p.url() + POOL,
                        prefix,
                        tasks,
                        loads,
                        start_line,
                        out,
                    ),
                )
                for p in proxies
            ]
            for w in workers:
                w.start()
            start_line.wait(timeout=120)
            ok = [r for _ in workers for r in out.get(timeout=120)]
            for w in workers:
                w.join(timeout=60)
        commands = [p.work() for p in proxies]
        total = sum(sum(c.values()) for c in commands)
        return {
            "peer": peer_name + (f"[{variant}]" if variant else ""),
            "processes": procs,
            "callers": CALLERS,
            "correct_results": sum(ok),
            "loader_calls": loads.value,
            "redis_commands": total,
            "commands_per_caller": round(total / CALLERS, 2),
            "connections": sum(p.connections for p in proxies),
            "by_command": dict(sum((c for c in commands), start=type(commands[0])())),
        }
    finally:
        for p in proxies:
            p.close()
        _cleanup(url, prefix)


# --- orchestration ---------------------------------------------------------------------------


def _importable(peer_name: str) -> bool:
    module = {
        "backendkit": "backendkit.cache",
        "cashews": "cashews",
        "aiocache": "aiocache",
        "fastapi-cache2": "fastapi_cache",
    }[peer_name]
    return importlib.util.find_spec(module) is not None


#: Peers measured in their own environment (.venv-bench-fc2) by a worker subprocess.
WORKER_PEERS = frozenset({"fastapi-cache2"})


def _unavailable(peer_name: str) -> str | None:
    """Why ``peer_name`` cannot be measured from here, or None when it can."""
    if _importable(peer_name):
        return None
    if peer_name in WORKER_PEERS:
        if FC2_PYTHON.exists():
            return None
        return "its environment .venv-bench-fc2 does not exist (benchmarks/run_all.py makes it)"
    return "not installed in this environment (benchmarks/run_all.py runs this in .venv-bench)"


def _in_worker(args: list[str]) -> Any:
    """Run one measurement in the fastapi-cache2 venv; return its JSON (exit if it fails)."""
    proc = subprocess.run(
        [str(FC2_PYTHON), __file__, "--worker", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        print(proc.stderr[-4000:], file=sys.stderr)
        raise SystemExit(
            f"the {args[1]} worker ({args[0]}) failed with exit status {proc.returncode}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _peers_section(url: str, quick: bool, unavailable: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    here: list[tuple[str, str]] = []
    for peer_name, variant in HIT_VARIANTS:
        why = _unavailable(peer_name)
        if why:
            unavailable[peer_name] = why
        elif _importable(peer_name):
            here.append((peer_name, variant))
        else:
            extra = ["--quick"] if quick else []
            rows += _in_worker(["peers", peer_name, variant, url, *extra])
    # The peers of this environment are interleaved; a worker's peer runs on its own.
    rows = asyncio.run(_peer_hits_misses(here, url, quick)) + rows
    order = {p + (f"[{v}]" if v else ""): i for i, (p, v) in enumerate(HIT_VARIANTS)}
    kinds = list(PAYLOADS)
    rows.sort(key=lambda r: (order[r["peer"]], kinds.index(r["payload"])))
    return rows


#: The stampede variants --quick keeps: the protected caches, and fastapi-cache2 as the
#: unprotected reference (its venv is the slowest to start).
QUICK_STAMPEDE = [
    ("backendkit", ""),
    ("cashews", "lock"),
    ("aiocache", "stampede"),
    ("fastapi-cache2", ""),
]


def _stampede_section(
    url: str, procs_list: list[int], quick: bool, unavailable: dict[str, str]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    variants = [v for v in STAMPEDE_VARIANTS if v in QUICK_STAMPEDE] if quick else STAMPEDE_VARIANTS
    for peer_name, variant in variants:
        why = _unavailable(peer_name)
        if why:
            unavailable[peer_name] = why
            continue
        for procs in procs_list:
            if _importable(peer_name):
                rows.append(run_stampede(peer_name, variant, url, procs))
            else:
                rows.append(_in_worker(["stampede", peer_name, variant, url, str(procs)]))
    return rows


_RAW_WHY = (
    "Above the raw call, a hit builds the key from the arguments (remembered for plain "
    "arguments), joins the key's in-process flight, reads the namespace generation with the "
    "entry (one MGET of two keys: a namespace invalidated by another process must never be "
    "served), parses the entry's header (its expiry drives early refresh) and counts the hit; "
    "that work is fixed, so it shows most on small payloads. The read pays for most of it "
    "by skipping redis-py's per-command wrapper, its pool's per-call bookkeeping (connection "
    "counts, a release event, a zero-timeout read to find a closed connection, where one "
    "select does) and, async, the task redis-py starts for every send."
)
_PICKLE_WHY = (
    "stores pickles: a hit only unpickles, with no validation (and unpickling from a shared "
    "Redis runs code for whoever can write to it); backendkit stores JSON and validates it into "
    "the declared return type on every hit."
)
_HIT_WHY = {
    "cashews": "cashews " + _PICKLE_WHY,
    "aiocache": "aiocache (pickle serializer; its JSON one cannot store a model) " + _PICKLE_WHY,
    "fastapi-cache2[pickle]": "fastapi-cache2's PickleCoder " + _PICKLE_WHY,
    "fastapi-cache2": "fastapi-cache2's JsonCoder decodes JSON without restoring the declared "
    "types: a hit does less work but returns a dict instead of the cached model.",
}
_MISS_WHY = (
    "A backendkit miss is stampede-protected in two round trips, as many as an unprotected "
    "GET and SET: the read is a script that returns the entry or else takes the load lock, "
    "and the store is a script that also releases the lock and, when a caller in another "
    "process waits, wakes it. What it pays for is the server's script work (a few "
    "microseconds per script), so that 4 processes load a cold key once; a miss nobody waits "
    "for writes no wake-up stream. Hits do not pay it: a key this process last read fresh is "
    "read with a plain MGET."
)
_STAMPEDE_WHY = (
    "backendkit protects across processes: each process waiting for another's load sends "
    "its read and one blocking XREAD, and the loading process its read and its store; within "
    "a process concurrent callers of the key share that one read and that one load."
)
_LATENCY_WHY = (
    "Concurrent callers of one key share one read: a caller that arrives while another's "
    "read of the key is in flight waits for that read instead of sending its own, so a hit "
    "can wait behind another caller (never behind a load of a key that is cached). With one "
    "key per caller nothing is shared, and the row shows the per-call overhead of a hit."
)


def _notes(results: dict[str, Any]) -> dict[str, str]:
    """Why backendkit is slower, for each case where it is (item 12 of the runner)."""
    notes: dict[str, str] = {}
    for r in results.get("hit_vs_raw", []):
        if r["ratio_vs_raw"] > 1.0:
            notes[f"hit vs raw, {r['payload']}, {r['mode']}"] = _RAW_WHY
    for r in results.get("hit_latency", []):
        if r["backendkit_p99_us"] > r["raw_p99_us"]:
            notes[f"hit latency, {r['mode']}, {r['keys']} keys"] = _LATENCY_WHY
    for r in results.get("peers", []):
        peer = r.get("peer", "")
        if r.get("hit_vs_bk", 1.0) < 1.0:
            notes[f"{peer}, {r['payload']}, hit"] = _HIT_WHY.get(
                peer, _HIT_WHY.get(peer.split("[")[0], _PICKLE_WHY)
            )
        if r.get("miss_vs_bk", 1.0) < 1.0:
            notes[f"{peer}, {r['payload']}, miss"] = _MISS_WHY
    base = {
        r["processes"]: r
        for r in results.get("stampede", [])
        if r.get("peer") == "backendkit" and "redis_commands" in r
    }
    for r in results.get("stampede", []):
        ours = base.get(r.get("processes", 0))
        if (
            ours
            and r.get("peer") != "backendkit"
            and "redis_commands" in r
            and ours["redis_commands"] > r["redis_commands"]
        ):
            # The note explains backendkit's row (its commands), not the peer's.
            notes[f"stampede, backendkit, {r['processes']} processes, commands"] = _STAMPEDE_WHY
    return notes


def _table(title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    print(f"\n## {title}")
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--json", help="write results to this file")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BACKENDKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        kind, peer_name, variant, url, *rest = args.worker
        if kind == "peers":
            # argparse takes a "--quick" after --worker as the flag itself, not as a value.
            quick = args.quick or "--quick" in rest
            out: Any = asyncio.run(_peer_hits_misses([(peer_name, variant)], url, quick))
        else:
            out = run_stampede(peer_name, variant, url, int(rest[0]))
        print(json.dumps(out))
        return

    url = args.redis_url
    results: dict[str, Any] = {"quick": args.quick, "python": sys.version.split()[0]}
    started = time.perf_counter()
    results["hit_vs_raw"] = bench_hit_vs_raw(url, args.quick)
    print(f"   ({time.perf_counter() - started:.1f} s so far)")
    _table(
        "Redis hit vs raw GET + pydantic decode (aim <= 1.15x)",
        results["hit_vs_raw"],
        [
            "payload",
            "mode",
            "bytes",
            "raw_get_decode_us",
            "connector_get_decode_us",
            "backendkit_hit_us",
            "ratio_vs_raw",
            "ratio_vs_connector",
            "l1_hit_us",
            "l1_speedup_vs_raw",
        ],
    )
    results["hit_latency"] = bench_hit_latency(url, args.quick)
    _table(
        "Hit latency under concurrency (every call; 1 hot key, or 1 key per caller)",
        results["hit_latency"],
        [
            "mode",
            "callers",
            "keys",
            "calls",
            "backendkit_p50_us",
            "backendkit_p99_us",
            "raw_p50_us",
            "raw_p99_us",
        ],
    )
    print(f"   ({time.perf_counter() - started:.1f} s so far)")
    unavailable: dict[str, str] = {}
    results["unavailable"] = unavailable
    peers = _peers_section(url, args.quick, unavailable)
    base = {r["payload"]: r for r in peers if r.get("peer") == "backendkit"}
    for r in peers:
        if "hit_us" in r and r["payload"] in base:
            r["hit_vs_bk"] = round(r["hit_us"] / base[r["payload"]]["hit_us"], 2)
            r["miss_vs_bk"] = round(r["miss_us"] / base[r["payload"]]["miss_us"], 2)
    results["peers"] = peers
    _table(
        "Async decorators on Redis: hits and misses (ratio = peer / backendkit)",
        peers,
        ["peer", "payload", "types_ok", "hit_type", "hit_us", "hit_vs_bk", "miss_us", "miss_vs_bk"],
    )
    print(f"   ({time.perf_counter() - started:.1f} s so far)")
    results["stampede"] = _stampede_section(url, [1, 4], args.quick, unavailable)
    _table(
        f"{CALLERS} concurrent cold requests, {int(LOAD_SECONDS * 1000)} ms loader",
        results["stampede"],
        [
            "peer",
            "processes",
            "loader_calls",
            "redis_commands",
            "commands_per_caller",
            "connections",
            "correct_results",
        ],
    )
    results["notes"] = _notes(results)
    print(f"   ({time.perf_counter() - started:.1f} s in total)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
