"""The caching section of the performance page (``bench_cache.py``'s JSON)."""

from __future__ import annotations

from typing import Any

from _format import SLOWER, Area, cell, num, speed
from _svg import bar_chart

__all__ = ["cache"]

_RAW_WHY = (
    "Above the raw call, a hit builds the key from the arguments (remembered for plain "
    "arguments), joins the key's in-process flight, reads the namespace generation with the "
    "entry (one MGET: an invalidated namespace must never be served), parses the entry's "
    "header (its expiry drives early refresh) and counts the hit. The read pays for most of "
    "it by skipping redis-py's per-command wrapper and its pool's per-call bookkeeping."
)
_PICKLE = (
    "stores pickles: a hit only unpickles, with no validation, but unpickling from a shared "
    "Redis runs code for whoever can write to it. backendkit stores JSON and validates it into "
    "the declared return type on every hit."
)
_HIT_WHY = {
    "cashews": "cashews " + _PICKLE,
    "aiocache": "aiocache (with its pickle serializer; its JSON one cannot store a model) "
    + _PICKLE,
    "fastapi-cache2[pickle]": "fastapi-cache2 with its PickleCoder " + _PICKLE,
    "fastapi-cache2": "fastapi-cache2's JsonCoder decodes JSON without restoring the declared "
    "types: a hit does less work but returns a dict instead of the model that was cached.",
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
    "its read and one blocking XREAD, and the loading process its read and its store."
)
_LATENCY_WHY = (
    "Concurrent callers of one key share one read: a caller that arrives while another's "
    "read of the key is in flight waits for that read instead of sending its own, so a hit "
    "can wait behind another caller (never behind a load of a key that is cached). With one "
    "key per caller nothing is shared, and the row shows the per-call overhead of a hit."
)


def cache(data: dict[str, Any], area: Area) -> None:
    """Hits against a raw GET, hit latency under concurrency, peers, a stampede."""
    _hit_vs_raw(data, area)
    _hit_latency(data, area)
    _peers(data, area)
    _stampede(data, area)


def _hit_latency(data: dict[str, Any], area: Area) -> None:
    rows = data.get("hit_latency") or []
    if not rows:
        return
    area.body += [
        "### Hit latency under concurrency",
        "",
        "Concurrent callers (asyncio tasks, or threads) each making hits in a row, on one hot",
        "key or on one key per caller, against raw `GET` + `validate_json` run the same way;",
        "p50 and p99 over every call of every round.",
        "",
    ]
    cells = []
    for row in rows:
        label = f"{row['mode']}, {row['callers']} callers, {row['keys']} key" + (
            "s" if row["keys"] > 1 else ""
        )
        ratio = speed(row["backendkit_p99_us"], row["raw_p99_us"], higher_is_better=False)
        ref = ""
        if ratio is not None and ratio <= SLOWER:
            ref = area.lose(
                label,
                f"a p99 hit latency at {ratio:.2f}x of a raw GET + decode ({label})",
                area.why(f"hit latency, {row['mode']}, {row['keys']} keys", _LATENCY_WHY),
                ratio=ratio,
            )
        cells.append(
            [
                label,
                num(row["backendkit_p50_us"], "µs"),
                num(row["raw_p50_us"], "µs"),
                num(row["backendkit_p99_us"], "µs"),
                cell(num(row["raw_p99_us"], "µs"), ratio, ref),
            ]
        )
    area.table(
        ["Callers", "backendkit p50", "raw p50", "backendkit p99", "raw p99"],
        cells,
    )


def _hit_vs_raw(data: dict[str, Any], area: Area) -> None:
    raw_rows = data.get("hit_vs_raw") or []
    if not raw_rows:
        return
    area.body += [
        "### A Redis hit against a raw GET",
        "",
        "A hit through `@cached` against a raw redis-py `GET` plus pydantic's",
        "`TypeAdapter.validate_json` of the same bytes (the least any typed cache must do).",
        "The target is at most 1.15x the raw time. The last column is a hit served by the",
        "opt-in in-process L1 (`local_cache=LocalCache()`, kept coherent by Redis client",
        "tracking), with no round trip: its aim is ten times faster than the raw `GET` for a",
        "small payload. It still decodes the payload on every hit (each caller gets its own",
        "object), and for 50 KB that decode is nearly all of the raw time too, so there it",
        "saves only the round trip.",
        "",
    ]
    rows = []
    via_connector = any("connector_get_decode_us" in row for row in raw_rows)
    with_l1 = any("l1_hit_us" in row for row in raw_rows)
    for row in raw_rows:
        label = f"{row['payload']} ({num(row['bytes'], 'B')}), {row['mode']}"
        ratio = speed(row["backendkit_hit_us"], row["raw_get_decode_us"], higher_is_better=False)
        ref = ""
        if ratio is not None and ratio <= SLOWER:
            ref = area.lose(
                label,
                f"{'an' if row['mode'][0] in 'aeiou' else 'a'} {row['mode']} hit of the "
                f"{row['payload']} payload at {ratio:.2f}x of a raw GET + decode",
                area.why(f"hit vs raw, {row['payload']}, {row['mode']}", _RAW_WHY),
                ratio=ratio,
            )
        cells = [
            label,
            num(row["backendkit_hit_us"], "µs"),
            cell(num(row["raw_get_decode_us"], "µs"), ratio, ref),
        ]
        if via_connector:
            connector = row.get("connector_get_decode_us")
            cells.append(
                cell(
                    num(connector, "µs"),
                    speed(row["backendkit_hit_us"], connector, higher_is_better=False),
                )
            )
        if with_l1:
            l1 = row.get("l1_hit_us")
            cells.append(
                cell(num(l1, "µs"), speed(l1, row["raw_get_decode_us"], higher_is_better=False))
            )
        rows.append(cells)
    header = ["Payload, API", "backendkit hit", "raw GET + validate_json"]
    if via_connector:
        header.append("GET through backendkit's connector + validate_json")
    if with_l1:
        header.append("backendkit hit from the in-process L1 (against raw)")
    area.table(header, rows)


def _peers(data: dict[str, Any], area: Area) -> None:
    peers = [r for r in data.get("peers") or [] if "hit_us" in r]
    if not peers:
        return
    area.body += [
        "### Against other caches",
        "",
        "Each peer's async decorator on the same Redis, loader, TTL and payloads, in its most",
        "type-preserving mode; each is first checked to return an equal value on a hit.",
        "",
    ]
    base = {r["payload"]: r for r in peers if r["peer"] == "backendkit"}
    rows = []
    for row in peers:
        mine = base.get(row["payload"])
        refs = {"hit": "", "miss": ""}
        ratios: dict[str, float | None] = {"hit": None, "miss": None}
        if mine and row["peer"] != "backendkit":
            hit_why = _HIT_WHY.get(row["peer"]) or _HIT_WHY.get(
                row["peer"].split("[")[0], "(the benchmark gives no reason)"
            )
            for what, why in (("hit", hit_why), ("miss", _MISS_WHY)):
                value = speed(mine[f"{what}_us"], row[f"{what}_us"], higher_is_better=False)
                ratios[what] = value
                if value is not None and value <= SLOWER:
                    refs[what] = area.lose(
                        f"{row['peer']}, {row['payload']}: {what}",
                        f"a {what} of the {row['payload']} payload at {value:.2f}x of "
                        f"{row['peer']}",
                        area.why(f"{row['peer']}, {row['payload']}, {what}", why),
                        ratio=value,
                    )
        rows.append(
            [
                row["peer"],
                row["payload"],
                cell(num(row["hit_us"], "µs"), ratios["hit"], refs["hit"]),
                cell(num(row["miss_us"], "µs"), ratios["miss"], refs["miss"]),
                f"`{row.get('hit_type', '')}`"
                + ("" if row.get("types_ok", True) else " (**not equal**)"),
            ]
        )
    area.table(["Library", "Payload", "hit", "miss", "a hit returns"], rows)


def _stampede(data: dict[str, Any], area: Area) -> None:
    stampede = [r for r in data.get("stampede") or [] if "loader_calls" in r]
    if not stampede:
        return
    area.body += [
        "### Stampede",
        "",
        "200 concurrent requests for the same cold key (a 200 ms loader), in one process and",
        "spread over four; loader calls and Redis commands counted on the client side.",
        "",
    ]
    rows = []
    for r in stampede:
        ref = ""
        if r["peer"] == "backendkit":
            ref = _stampede_loss(r, stampede, area)
        rows.append(
            [
                r["peer"],
                str(r["processes"]),
                str(r["loader_calls"]),
                str(r["redis_commands"]) + (f" · {ref}" if ref else ""),
                num(r["commands_per_caller"]),
                str(r.get("connections", "")),
                f"{r['correct_results']}/{r['callers']}",
            ]
        )
    area.table(
        [
            "Library",
            "processes",
            "loader calls",
            "Redis commands",
            "per request",
            "connections",
            "correct results",
        ],
        rows,
    )
    names = list(dict.fromkeys(r["peer"] for r in stampede))
    procs = sorted({r["processes"] for r in stampede})
    by = {(r["peer"], r["processes"]): r for r in stampede}
    area.charts["cache-stampede.svg"] = bar_chart(
        "Loader calls for 200 concurrent cold requests",
        names,
        {
            f"{p} process{'es' if p > 1 else ''}": [
                by[(n, p)]["loader_calls"] if (n, p) in by else None for n in names
            ]
            for p in procs
        },
        unit="loader calls (fewer is better; 1 is ideal)",
        width=760,
    )
    area.body += ["![Loader calls under a stampede](assets/performance/cache-stampede.svg)", ""]


def _stampede_loss(ours: dict[str, Any], rows: list[dict[str, Any]], area: Area) -> str:
    """backendkit's own stampede row: extra loads, or more commands than a protected peer."""
    procs = ours["processes"]
    label = f"backendkit, {procs} process{'es' if procs > 1 else ''}"
    refs = []
    if ours["loader_calls"] > 1:
        refs.append(
            area.lose(
                label,
                f"{ours['loader_calls']} loader calls for one cold key across {procs} processes",
                "Within a process concurrent callers share one load; across processes the "
                "Redis lock lets one load while the others wait and re-read.",
            )
        )
    # The fewest commands any peer that also loaded once needed, in the same process count.
    fewer = [
        r
        for r in rows
        if r["peer"] != "backendkit"
        and r["processes"] == procs
        and r["loader_calls"] <= ours["loader_calls"]
        and r["redis_commands"] < ours["redis_commands"]
    ]
    if fewer:
        best = min(fewer, key=lambda r: r["redis_commands"])
        refs.append(
            area.lose(
                label,
                f"{ours['redis_commands']} Redis commands for {ours['callers']} callers in "
                f"{procs} process{'es' if procs > 1 else ''}, where {best['peer']} sends "
                f"{best['redis_commands']} for the same single load",
                area.why(f"stampede, backendkit, {procs} processes, commands", _STAMPEDE_WHY),
            )
        )
    return " · ".join(refs)
