"""Render docs/performance.md (and its SVG charts) from build/bench/summary.json.

One renderer per area reads that benchmark script's JSON. Every comparison is shown the
same way: absolute numbers in every column and, beside each number that is not
backendkit's, backendkit's *relative speed* against it (``1.26x`` = backendkit does the
same work 1.26 times as fast; ``0.80x`` = it is slower). Rows where backendkit is slower
are collected, with the reason, into the "Where backendkit is slower" section at the top.
A renderer that meets a result it does not understand falls back to the script's own
printed output, which always carries absolute numbers and ratios.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _svg import bar_chart, line_chart

__all__ = ["render"]

ROOT = Path(__file__).resolve().parent.parent
SLOWER, FASTER = 0.95, 1.05  # within 5 %: the same speed (the noise of one run)
DASH = "\u2013"  # an en dash: "no figure" in a table cell


# --------------------------------------------------------------------------- formatting


def speed(ours: float | None, other: float | None, *, higher_is_better: bool) -> float | None:
    """backendkit's speed relative to ``other`` (> 1: backendkit faster)."""
    if not ours or not other:
        return None
    return ours / other if higher_is_better else other / ours


def rel(value: float | None) -> str:
    """``1.26x faster`` / ``0.80x (slower)`` / ``1.01x (same)``."""
    if value is None:
        return ""
    if value >= FASTER:
        return f"{value:.2f}x"
    if value <= SLOWER:
        return f"**{value:.2f}x** (slower)"
    return f"{value:.2f}x (same)"


def num(value: float | None, unit: str = "", digits: int = 3) -> str:
    """A number with a few significant digits and thousands separators."""
    if value is None:
        return DASH
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"
    return f"{text} {unit}".strip()


def us(seconds: float | None) -> str:
    return DASH if seconds is None else num(seconds * 1e6, "µs")


def cell(value: str, relative: float | None) -> str:
    return f"{value} · {rel(relative)}" if relative is not None else value


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


@dataclass
class Area:
    """What one area contributes to the page."""

    title: str
    body: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)  # file name -> SVG

    quick: bool = False
    notes: dict[str, str] = field(default_factory=dict)  # the script's own "notes"
    used_notes: set[str] = field(default_factory=set)

    def why(self, key: str, default: str) -> str:
        """The script's note for ``key`` when it has one (shown once), else ``default``."""
        if key in self.notes:
            self.used_notes.add(key)
            return self.notes[key]
        return default

    def lose(self, what: str, why: str, ratio: float | None = None) -> None:
        if self.quick and ratio is not None and ratio > 0.9:
            why += " (A quick run: a difference under 10 % can be noise here.)"
        self.losses.append(f"**{self.title}: {what}.** {why}")


# --------------------------------------------------------------------------- areas


def _tokens(data: dict[str, Any], area: Area) -> None:
    area.body += [
        "`TokenService.verify_access` against plain `jwt.decode` with the same key object and the",
        "same checks (fixed algorithm, required `exp`/`iat`/`jti`/`sub`, exact `iss` and `aud`,",
        'zero leeway, `type == "access"`); the claims both return are compared before timing.',
        "",
    ]
    rows = []
    for row in data["results"]:
        ours, theirs = row["backendkit_ops_per_s"], row["pyjwt_ops_per_s"]
        ratio = speed(ours, theirs, higher_is_better=True)
        rows.append(
            [
                row["algorithm"],
                f"{row['token_bytes']} B",
                num(ours, "/s"),
                cell(num(theirs, "/s"), ratio),
            ]
        )
        if ratio is not None and ratio <= SLOWER:
            area.lose(
                f"{row['algorithm']} verification at {ratio:.2f}x of plain pyjwt",
                "backendkit checks more than `jwt.decode` before and around the signature: the "
                "8 KiB cap, canonical base64url for every segment, the header allowlist, `kid` "
                "selection and duplicate JSON members. Those checks cost microseconds; where the "
                "signature check is cheap they are a visible share of the time.",
                ratio=ratio,
            )
    area.body += table(
        ["Algorithm", "Token", "backendkit (verifications/s)", "pyjwt `jwt.decode`"], rows
    )
    if all(
        (speed(r["backendkit_ops_per_s"], r["pyjwt_ops_per_s"], higher_is_better=True) or 0)
        > SLOWER
        for r in data["results"]
    ):
        area.body += [
            "backendkit checks more (the 8 KiB cap, canonical base64url, the header allowlist,",
            "duplicate JSON members) and is still not slower: its keys are prepared once when the",
            "service is built and the signature is checked with the algorithm object directly,",
            "where `jwt.decode` prepares the key and merges its options on every call.",
            "",
        ]


def _passwords(data: dict[str, Any], area: Area) -> None:
    result = data["result"]
    ours, direct = result["backendkit"], result["direct"]
    area.body += [
        f"16 concurrent verifications of a bcrypt (cost {result['cost']}) hash while a ticker",
        "coroutine sleeps 1 ms in a loop and records how late each wake-up is: backendkit's",
        "`await hasher.averify(...)` (bcrypt in a bounded thread pool; bcrypt releases the GIL)",
        "against `bcrypt.checkpw` called inside a coroutine, the usual mistake. Both must return",
        "16 x `True` before their timings count.",
        "",
    ]
    lag = speed(ours["lag_p99_ms"], direct["lag_p99_ms"], higher_is_better=False)
    wall = speed(ours["wall_s"], direct["wall_s"], higher_is_better=False)
    area.body += table(
        [
            "",
            "p50 loop lag",
            "p99 loop lag",
            "max loop lag",
            "ticks served",
            "wall time, 16 verifications",
        ],
        [
            [
                "backendkit `averify`",
                num(ours["lag_p50_ms"], "ms"),
                num(ours["lag_p99_ms"], "ms"),
                num(ours["lag_max_ms"], "ms"),
                str(ours["ticks"]),
                num(ours["wall_s"], "s"),
            ],
            [
                "`bcrypt.checkpw` in a coroutine",
                num(direct["lag_p50_ms"], "ms"),
                cell(num(direct["lag_p99_ms"], "ms"), lag),
                num(direct["lag_max_ms"], "ms"),
                str(direct["ticks"]),
                cell(num(direct["wall_s"], "s"), wall),
            ],
        ],
    )
    area.body += [
        "The event loop stays responsive: p99 lag is "
        f"{result['p99_ratio_direct_over_ours']:g} times",
        "lower than when bcrypt blocks the loop, where every other request waits for the hashes.",
        "",
    ]
    if wall is not None and wall <= SLOWER:
        area.lose(
            f"wall time for 16 verifications at {wall:.2f}x of blocking calls",
            "The hashing work is the same; handing each hash to the thread pool and back costs a "
            "little, and the pool is bounded (at most 4 threads, here one per core) so hashing "
            "cannot starve the rest of the process. In exchange the loop keeps serving other "
            "requests (the lag columns); blocking calls finish sooner only because nothing "
            "else runs.",
            ratio=wall,
        )


_STRATEGY = {
    "sliding-window-counter": "sliding window counter",
    "fixed-window": "fixed window",
    "moving-window": "moving window",
}


def _ratelimit(data: dict[str, Any], area: Area) -> None:
    area.body += [
        "### Cost per hit",
        "",
        "`RateLimiter.hit` against calling `limits` directly with the same limit, strategy and",
        "storage; keys rotate over 1,000 clients and the limit is never reached, so the limiter's",
        "cost is timed, not its denials. The first seven decisions of both are compared first.",
        "`limits`' `hit` answers only allowed/denied; a response with rate-limit headers also",
        "needs `get_window_stats`, so the like-for-like comparison is the last column.",
        "",
    ]
    rows = []
    for row in data.get("overhead", []):
        best = row["seconds_per_call"]
        hit = speed(best["backendkit_hit"], best["limits_hit"], higher_is_better=False)
        hdr = speed(
            best["backendkit_hit_headers"], best["limits_hit_stats"], higher_is_better=False
        )
        name = f"{row['storage']}, {_STRATEGY.get(row['strategy'], row['strategy'])}"
        rows.append(
            [
                name,
                us(best["backendkit_hit"]),
                cell(us(best["limits_hit"]), hit),
                us(best["backendkit_hit_headers"]),
                cell(us(best["limits_hit_stats"]), hdr),
                "yes" if row["same_decisions"] else "**no**",
            ]
        )
        if hit is not None and hit <= SLOWER:
            area.lose(
                f"a bare `hit` on {name} at {hit:.2f}x of `limits`' `hit`",
                area.why(
                    f"{row['storage']}, {row['strategy']}: hit",
                    "backendkit's hit returns the whole decision (remaining, reset, retry-after) "
                    "computed by one script on the Redis server's clock, while `limits`' `hit` "
                    "returns only a boolean. Once headers are needed (`hit` + `get_window_stats`, "
                    "the next column) backendkit is the faster one.",
                ),
                ratio=hit,
            )
        if hdr is not None and hdr <= SLOWER:
            area.lose(
                f"a hit with headers on {name} at {hdr:.2f}x of `limits`",
                area.why(
                    f"{row['storage']}, {row['strategy']}: hit + headers",
                    "backendkit computes the whole decision, header numbers included, in one "
                    "call; in this run that was slower than `limits`' two calls (the script's "
                    "output below has the cost of each call).",
                ),
                ratio=hdr,
            )
    area.body += table(
        [
            "Storage, strategy",
            "backendkit `hit`",
            "`limits` `hit`",
            "backendkit `hit` + headers",
            "`limits` `hit` + `get_window_stats`",
            "same decisions",
        ],
        rows,
    )
    trips = data.get("round_trips") or []
    if trips:
        peers = ["backendkit", "flask-limiter", "slowapi"]
        area.body += [
            "### Redis commands per request",
            "",
            "Commands sent to Redis per request that needs rate-limit headers, counted on the",
            "client side by a loopback proxy in steady state, with one or two limits per rule.",
            "flask-limiter and slowapi get the same limits, strategy and storage, headers on;",
            "the remaining count each reports is checked equal.",
            "",
        ]
        rows = []
        for row in trips:
            name = f"{_STRATEGY.get(row['strategy'], row['strategy'])}, `{row['limits']}`"
            cells = [name, num(row["backendkit"])]
            for peer in peers[1:]:
                cells.append(
                    cell(
                        num(row.get(peer)),
                        speed(row["backendkit"], row.get(peer), higher_is_better=False),
                    )
                )
            cells.append("yes" if row.get("same_remaining") else "**no**")
            rows.append(cells)
            for peer in peers[1:]:
                ratio = speed(row["backendkit"], row.get(peer), higher_is_better=False)
                if ratio is not None and ratio <= SLOWER:
                    area.lose(
                        f"{row['backendkit']:g} Redis commands per request against "
                        f"{row[peer]:g} for {peer} ({name})",
                        area.why(
                            f"round trips, {row['strategy']}, {row['limits']}",
                            "(the benchmark gives no reason)",
                        ),
                    )
        area.body += table(["Strategy, limits", *peers, "same remaining"], rows)
        area.charts["ratelimit-round-trips.svg"] = bar_chart(
            "Redis commands per rate-limited request (with headers)",
            [f"{_STRATEGY.get(r['strategy'], r['strategy'])}, {r['limits']}" for r in trips],
            {peer: [r.get(peer) for r in trips] for peer in peers},
            unit="commands per request (fewer is better)",
            width=760,
        )
        area.body += [
            "![Redis commands per request](assets/performance/ratelimit-round-trips.svg)",
            "",
        ]
    hung = data.get("hung")
    if hung:
        ours, peer = hung["backendkit"], hung["flask_limiter_swallow_errors"]
        peer_time = (
            f"more than {peer['cap']:g} s (killed)"
            if peer.get("capped")
            else num(peer["seconds"], "s")
        )
        area.body += [
            "### A hung Redis",
            "",
            "Redis accepts connections and never answers. backendkit uses its defaults (0.25 s",
            "timeouts, circuit breaker after one failure, fail-open policy); flask-limiter is",
            "configured to survive (`swallow_errors=True`, in-memory fallback).",
            "",
        ]
        area.body += table(
            ["", "first decision", "decisions while the breaker is open", "connections opened"],
            [
                [
                    "backendkit",
                    num(ours["first_decision_seconds"], "s"),
                    us(ours["breaker_open_seconds_per_decision"]) + " each",
                    str(ours.get("connections", "")),
                ],
                ["flask-limiter (`swallow_errors`)", peer_time, DASH, DASH],
            ],
        )


def _cache(data: dict[str, Any], area: Area) -> None:
    raw_rows = data.get("hit_vs_raw") or []
    if raw_rows:
        area.body += [
            "### A Redis hit against a raw GET",
            "",
            "A hit through `@cached` against a raw redis-py `GET` plus pydantic's",
            "`TypeAdapter.validate_json` of the same bytes (the least any typed cache must do).",
            "The target is at most 1.15x the raw time.",
            "",
        ]
        rows = []
        via_connector = any("connector_get_decode_us" in row for row in raw_rows)
        for row in raw_rows:
            ratio = speed(
                row["backendkit_hit_us"], row["raw_get_decode_us"], higher_is_better=False
            )
            cells = [
                f"{row['payload']} ({num(row['bytes'], 'B')}), {row['mode']}",
                num(row["backendkit_hit_us"], "µs"),
                cell(num(row["raw_get_decode_us"], "µs"), ratio),
            ]
            if via_connector:
                connector = row.get("connector_get_decode_us")
                cells.append(
                    cell(
                        num(connector, "µs"),
                        speed(row["backendkit_hit_us"], connector, higher_is_better=False),
                    )
                )
            rows.append(cells)
            if ratio is not None and ratio <= SLOWER:
                area.lose(
                    f"{'an' if row['mode'][0] in 'aeiou' else 'a'} {row['mode']} hit of the "
                    f"{row['payload']} payload at {ratio:.2f}x of a "
                    "raw GET + decode",
                    area.why(
                        f"hit vs raw, {row['payload']}, {row['mode']}",
                        "Above the raw call, a hit builds the key from the arguments, reads the "
                        "namespace generation with the entry (one MGET), decodes the entry's "
                        "envelope (its expiry drives early refresh) and counts the hit.",
                    ),
                    ratio=ratio,
                )
        header = ["Payload, API", "backendkit hit", "raw GET + validate_json"]
        if via_connector:
            header.append("GET through backendkit's connector + validate_json")
        area.body += table(header, rows)
    peers = [r for r in data.get("peers") or [] if "hit_us" in r]
    if peers:
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
            hit = miss = None
            if mine and row["peer"] != "backendkit":
                hit = speed(mine["hit_us"], row["hit_us"], higher_is_better=False)
                miss = speed(mine["miss_us"], row["miss_us"], higher_is_better=False)
                hit_why = _CACHE_HIT_WHY.get(row["peer"]) or _CACHE_HIT_WHY.get(
                    row["peer"].split("[")[0], "(the benchmark gives no reason)"
                )
                for label, value, why in (("hit", hit, hit_why), ("miss", miss, _CACHE_MISS_WHY)):
                    if value is not None and value <= SLOWER:
                        area.lose(
                            f"a {label} of the {row['payload']} payload at {value:.2f}x of "
                            f"{row['peer']}",
                            area.why(f"{row['peer']}, {row['payload']}, {label}", why),
                            ratio=value,
                        )
            rows.append(
                [
                    f"{row['peer']}",
                    row["payload"],
                    cell(num(row["hit_us"], "µs"), hit),
                    cell(num(row["miss_us"], "µs"), miss),
                    f"`{row.get('hit_type', '')}`"
                    + ("" if row.get("types_ok", True) else " (**not equal**)"),
                ]
            )
        skipped = [r for r in data.get("peers") or [] if "skipped" in r]
        area.body += table(["Library", "Payload", "hit", "miss", "a hit returns"], rows)
        area.body += [f"*{r['peer']}: skipped ({r['skipped']}).*" for r in skipped]
        area.body += [""] if skipped else []
    stampede = [r for r in data.get("stampede") or [] if "loader_calls" in r]
    if stampede:
        area.body += [
            "### Stampede",
            "",
            "200 concurrent requests for the same cold key (a 200 ms loader), in one process and",
            "spread over four; loader calls and Redis commands counted on the client side.",
            "",
        ]
        rows = [
            [
                r["peer"],
                str(r["processes"]),
                str(r["loader_calls"]),
                str(r["redis_commands"]),
                num(r["commands_per_caller"]),
                str(r.get("connections", "")),
                f"{r['correct_results']}/{r['callers']}",
            ]
            for r in stampede
        ]
        area.body += table(
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
        for r in stampede:
            if r["peer"] == "backendkit" and r["loader_calls"] > 1:
                area.lose(
                    f"{r['loader_calls']} loader calls for one cold key across "
                    f"{r['processes']} processes",
                    "Within a process concurrent callers share one load; across processes the "
                    "Redis lock lets one load while the others wait and re-read.",
                )


_PICKLE = (
    "stores pickles: a hit only unpickles, with no validation, but unpickling from a shared "
    "Redis runs code for whoever can write to it. backendkit stores JSON and validates it into "
    "the declared return type on every hit."
)
_CACHE_HIT_WHY = {
    "cashews": "cashews " + _PICKLE,
    "aiocache": "aiocache (with its pickle serializer; its JSON one cannot store a model) "
    + _PICKLE,
    "fastapi-cache2[pickle]": "fastapi-cache2 with its PickleCoder " + _PICKLE,
    "fastapi-cache2": "fastapi-cache2's JsonCoder decodes JSON without restoring the declared "
    "types: a hit does less work but returns a dict instead of the model that was cached.",
}
_CACHE_MISS_WHY = (
    "A backendkit miss is stampede-protected: one read, then one script that re-checks the "
    "entry and takes the lock atomically, then one that stores the value, releases the lock and "
    "wakes waiting callers (three round trips where an unprotected cache makes two, GET and SET)."
)


def _adapters(data: dict[str, Any], area: Area) -> None:
    area.body += [
        "Requests per second for `GET /json` (the same envelope bytes, checked equal before",
        "timing), server pinned to one core and the load generator to the other, median of the",
        "rounds, and the server's CPU time per request (from /proc), which other load on the",
        "machine disturbs less. backendkit's adapters add a request id, security headers, error",
        "envelopes and one JSON access-log line per request (written to a file); the `-nolog`",
        "rows are the same apps with that line filtered out. The `-floor` rows are the bare app",
        "plus a hand-written minimum of those duties (a generated request id in a contextvar,",
        "two headers, one unstructured JSON line written and flushed; no envelope, body cap,",
        "redaction or log pipeline): the closest any adapter that keeps an access log can come",
        "to the bare framework. The `-serverlog` rows are the bare app with the server's own",
        "access log on (uvicorn's default, gunicorn's `--access-logfile`), the log a bare",
        "deployment usually keeps. In this section each app is",
        "compared with the first app of its group (its *baseline*): `0.80x` means 80 % of the",
        "baseline's throughput.",
        "",
    ]
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, row in data.items():
        groups.setdefault(row["group"], []).append((name, row))
    titles = {
        "fastapi": "FastAPI (uvicorn, one worker)",
        "fastapi-limit": "FastAPI with a rate limit (memory storage, headers on)",
        "flask": "Flask (gunicorn gthread, one worker)",
        "flask-limit": "Flask with a rate limit (memory storage, headers on)",
    }
    chart_names: list[str] = []
    chart_values: list[float] = []
    for group, entries in groups.items():
        base_name, base = entries[0]
        rows = []
        for name, row in entries:
            rps_rel = speed(row["rps"], base["rps"], higher_is_better=True)
            cpu_rel = speed(row.get("cpu_us_per_request"), base.get("cpu_us_per_request"),
                            higher_is_better=False)  # fmt: skip
            baseline = name == base_name
            rows.append(
                [
                    f"`{name}`" + (" (baseline)" if baseline else ""),
                    num(row["rps"], "req/s") + ("" if baseline else f" · {rel(rps_rel)}"),
                    num(row.get("cpu_us_per_request"), "µs")
                    + ("" if baseline or cpu_rel is None else f" · {rel(cpu_rel)}"),
                ]
            )
            chart_names.append(name)
            chart_values.append(row["rps"])
            if baseline or "backendkit" not in name or name.endswith(("-nolog", "-floor")):
                continue
            if rps_rel is not None and rps_rel <= SLOWER:
                why = base.get("note") or _ADAPTER_WHY.get(
                    base_name, "backendkit does more per request than this app."
                )
                by_name = dict(entries)
                for other, sentence in (
                    (f"{name}-nolog", "Without the access-log line `{name}` runs at {r:.2f}x of "
                     "`{base}`."),
                    (f"{base_name}-serverlog", "With the server's own access log on, `{base}` "
                     "itself runs at {r:.2f}x."),
                    (f"{group}-floor", "The hand-written minimum (`{other}`) runs at {r:.2f}x "
                     "of `{base}`."),
                ):  # fmt: skip
                    if other in by_name:
                        r = speed(by_name[other]["rps"], base["rps"], higher_is_better=True)
                        why += " " + sentence.format(name=name, base=base_name, other=other, r=r)
                area.lose(f"`{name}` at {rps_rel:.2f}x of `{base_name}`", why, ratio=rps_rel)
        area.body += [f"### {titles.get(group, group)}", ""]
        area.body += table(["App", "throughput", "server CPU per request"], rows)
    if chart_values:
        area.charts["adapters-throughput.svg"] = bar_chart(
            "JSON endpoint throughput",
            chart_names,
            {"requests/s": chart_values},
            unit="requests per second (more is better)",
            width=760,
        )
        area.body += ["![Throughput per app](assets/performance/adapters-throughput.svg)", ""]


# Used when the benchmark's JSON carries no note of its own.
_ADAPTER_WHY = {
    "fastapi-bare": "The bare app does nothing per request; backendkit adds a request id, "
    "security headers, the error envelope around the call and a JSON access-log line per "
    "request, all in pure ASGI middleware.",
    "flask-bare": "The bare app does nothing per request; backendkit adds a request id, security "
    "headers, error handling and a JSON access-log line per request.",
    "fastapi-slowapi": "slowapi keeps no access log and adds no request id, security headers or "
    "error envelope.",
    "flask-limiter": "Flask-Limiter keeps no access log and adds no request id, security headers "
    "or error envelope.",
}


def _adapters_django(data: dict[str, Any], area: Area) -> None:
    medians = data["median_rps"]
    cpu = {m: statistics.median(v) for m, v in (data.get("cpu_us_per_request") or {}).items()}
    area.body += [
        "`GET /api/item` under gunicorn (one sync worker, pinned to one core; the load generator",
        f"on the other, {data.get('concurrency', '?')} connections, a new connection per "
        "request as",
        "the sync worker closes each). Both apps have Django's stock middleware; the backendkit",
        "app adds `BackendKitMiddleware` (request id, log context, security headers, errors) and",
        "a JSON access-log line per request. The worker's CPU time per request (from /proc) is",
        "disturbed less by other load on the machine than throughput is.",
        "",
    ]
    labels = {
        "backendkit": "Django + backendkit",
        "backendkit_nolog": "Django + backendkit, access log off",
        "bare": "bare Django",
    }
    rows = []
    for mode in ("backendkit", "backendkit_nolog", "bare"):
        if mode not in medians:
            continue
        rps_rel = cpu_rel = None
        if mode == "bare":
            rps_rel = speed(medians["backendkit"], medians["bare"], higher_is_better=True)
            cpu_rel = speed(cpu.get("backendkit"), cpu.get("bare"), higher_is_better=False)
        rows.append(
            [
                labels[mode],
                cell(num(medians[mode], "req/s"), rps_rel),
                cell(num(cpu.get(mode), "µs"), cpu_rel) if cpu else DASH,
            ]
        )
    area.body += table(["App", "throughput", "worker CPU per request"], rows)
    ratio = speed(medians["backendkit"], medians["bare"], higher_is_better=True)
    if ratio is not None and ratio <= SLOWER:
        why = area.why(
            "backendkit",
            "The middleware adds a request id, binds the log context, sets security headers "
            "and writes one JSON access-log line per request.",
        )
        if "backendkit_nolog" in medians:
            nolog = speed(medians["backendkit_nolog"], medians["bare"], higher_is_better=True)
            why += (
                f" With the access log off it runs at {nolog:.2f}x of bare Django: the rest of "
                "the difference is the cost of formatting and writing one structured log line "
                "per request."
            )
        area.lose(
            f"Django with `BackendKitMiddleware` at {ratio:.2f}x of bare Django",
            why,
            ratio=ratio,
        )


def _repository(data: dict[str, Any], area: Area) -> None:
    # Shape documented in REQUESTS.md: "groups" tables and "series" for charts.
    _generic(data, area)


def _generic(data: dict[str, Any], area: Area) -> None:
    """The recommended schema: ``groups`` (tables) and ``series`` (line charts)."""
    if not data.get("groups") and not data.get("series"):
        raise KeyError("groups")
    for group in data.get("groups", []):
        higher = group.get("higher_is_better", False)
        rows_in = group["rows"]
        ours = next((r for r in rows_in if r["impl"] == "backendkit"), None)
        area.body += [f"### {group['name']}", ""]
        if group.get("description"):
            area.body += [group["description"], ""]
        rows = []
        for row in rows_in:
            relative = None
            if ours is not None and row is not ours:
                relative = speed(ours["value"], row["value"], higher_is_better=higher)
                if relative is not None and relative <= SLOWER:
                    area.lose(
                        f"{group['name']}: {relative:.2f}x of {row['impl']}",
                        group.get("note")
                        or row.get("note")
                        or area.why(group["name"], "(the benchmark gives no reason)"),
                        ratio=relative,
                    )
            rows.append([row["impl"], cell(num(row["value"], group.get("unit", "")), relative)])
        area.body += table(["Implementation", group.get("unit", "value")], rows)
    for index, series in enumerate(data.get("series", [])):
        name = f"{area.title.lower().replace(' ', '-')}-{index + 1}.svg"
        area.charts[name] = line_chart(
            series["name"],
            series.get("x_label", ""),
            series.get("y_label", ""),
            series["x"],
            series["lines"],
            log_x=series.get("log_x", False),
            log_y=series.get("log_y", False),
        )
        area.body += [f"![{series['name']}](assets/performance/{name})", ""]


@dataclass(frozen=True)
class _Spec:
    title: str
    render: Callable[[dict[str, Any], Area], None]
    peers: str


AREAS: dict[str, _Spec] = {
    "tokens": _Spec("Tokens", _tokens, "plain pyjwt"),
    "passwords": _Spec("Passwords and event-loop lag", _passwords, "plain bcrypt in a coroutine"),
    "ratelimit": _Spec("Rate limiting", _ratelimit, "plain `limits`, flask-limiter, slowapi"),
    "cache": _Spec("Caching", _cache, "raw redis-py GET, cashews, aiocache, fastapi-cache2"),
    "repository": _Spec(
        "Repository and pagination",
        _repository,
        "raw SQLAlchemy Core, advanced-alchemy, fastapi-pagination",
    ),
    "adapters": _Spec(
        "Flask and FastAPI adapters", _adapters, "bare Flask and FastAPI, slowapi, Flask-Limiter"
    ),
    "adapters_django": _Spec("Django adapter", _adapters_django, "bare Django"),
}


# --------------------------------------------------------------------------- the page


def _notes(data: Any, used: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The script's own ``notes`` not already shown beside a loss (a mapping or a list)."""
    notes = data.get("notes") if isinstance(data, dict) else None
    if isinstance(notes, dict):
        left = {k: v for k, v in notes.items() if k not in used}
        if not left:
            return []
        return ["Notes from the benchmark:", "", *(f"- *{k}:* {v}" for k, v in left.items()), ""]
    if isinstance(notes, list) and notes:
        return ["Notes from the benchmark:", "", *(f"- {n}" for n in notes), ""]
    return []


def _raw_output(run: dict[str, Any]) -> list[str]:
    output = (run.get("output") or "").strip()
    if not output:
        return []
    lines = output.splitlines()[-80:]
    return [
        f'??? note "Output of `{run["script"]}`"',
        "",
        "    ```text",
        *(f"    {line}" if line else "" for line in lines),
        "    ```",
        "",
    ]


def _machine(summary: dict[str, Any]) -> list[str]:
    m = summary["machine"]
    services = m.get("services", {})
    lines = [
        "## The machine",
        "",
        f"- **CPU:** {m.get('cpu')}, {m.get('cores')} cores",
        f"- **RAM:** {m.get('ram_gib')} GiB",
        f"- **OS:** {m.get('distribution') or ''} ({m.get('os')})",
        f"- **Python:** {m.get('python')}",
        "- **Services:** "
        + ", ".join(
            f"{name} {version or 'not reachable'}"
            for name, version in (
                ("Redis", services.get("redis")),
                ("PostgreSQL", services.get("postgresql")),
                ("MariaDB", (services.get("mariadb") or "").split("-")[0] or None),
            )
        ),
        "- **Load generator:** "
        + (m.get("wrk") or "the scripts' own asyncio/thread clients (wrk not installed)"),
        "",
        "Libraries (`.venv-bench`"
        + (
            ", and `.venv-bench-fc2` for fastapi-cache2 with redis < 5"
            if m.get("fc2_packages")
            else ""
        )
        + "):",
        "",
    ]
    packages = dict(m.get("packages", {}))
    fc2 = m.get("fc2_packages", {})
    rows = [[f"`{name}`", version, fc2.get(name, "")] for name, version in packages.items()]
    rows += [[f"`{name}`", "", version] for name, version in fc2.items() if name not in packages]
    lines += table(["Package", "version", "in .venv-bench-fc2" if fc2 else ""], rows)
    return lines


_HEAD = """\
<!-- Generated by benchmarks/run_all.py from build/bench/*.json: do not edit by hand. -->

# Performance

What backendkit costs, measured against the raw library underneath it and against the
peers you might pick instead, **in the same run on the same machine**. Every figure below
comes from one run of `{command}` ({when}; {duration}).

**How to read the tables.** Every cell holds an absolute number. Beside each number that is
not backendkit's is backendkit's *relative speed* against it: `1.26x` means backendkit does
the same work 1.26 times as fast, `0.80x (slower)` means it takes 25 % longer, and within
5 % is marked *same* (the noise of one run). Peers get the same options as backendkit, and
their results are checked equal to backendkit's before anything is timed.
"""


def _intro(summary: dict[str, Any]) -> str:
    quick = summary.get("quick")
    command = "make bench-quick" if quick else "make bench"
    when = summary.get("generated", "")[:10]
    duration = f"{summary.get('seconds', 0) / 60:.1f} minutes in total"
    text = _HEAD.format(command=command, when=when, duration=duration)
    if quick:
        text += (
            '\n!!! warning "A quick run"\n    These figures come from `--quick` mode: fewer '
            "iterations and rounds, so ratios are noisier than a full `make bench` run.\n"
        )
    return text


_REPRODUCE = """\
## Reproduce

```text
make bench          # every benchmark, full length (under 15 minutes on 2 cores)
make bench-quick    # the same with fewer iterations (under 3 minutes)
python benchmarks/run_all.py --only cache ratelimit   # some areas (others keep their results)
python benchmarks/run_all.py --render-only            # re-render from build/bench/
```

The runner creates the benchmark environments on first use: `.venv-bench` (backendkit with
every extra, pinned by `constraints.txt`, plus the peers pinned in
`benchmarks/requirements-peers.txt`) and `.venv-bench-fc2` (fastapi-cache2 needs
`redis<5`: `benchmarks/requirements-fastapi-cache2.txt`). Peers never enter the project's
development environment. Redis (127.0.0.1:6379) and PostgreSQL must be running; the adapter
benchmarks pin the server to one CPU and the load generator to the other with `taskset`, and
use `wrk` when it is installed. Each script also runs on its own, e.g.
`.venv-bench/bin/python benchmarks/bench_tokens.py --quick --json out.json`; it prints
absolute numbers and ratios, and its JSON lands in `build/bench/` when the runner calls it.

Benchmarks are never part of the test suite, and no test asserts a duration.
"""


def render(summary: dict[str, Any], page: Path, assets: Path) -> None:
    """Write ``page`` and its charts under ``assets`` from a run summary."""
    sections: list[str] = []
    losses: list[str] = []
    status_rows = []
    assets.mkdir(parents=True, exist_ok=True)
    for old in assets.glob("*.svg"):
        old.unlink()
    for run in summary["runs"]:
        spec = AREAS.get(run["area"])
        title = spec.title if spec else run["area"]
        area = Area(title, quick=bool(summary.get("quick")))
        status = run.get("status", "not run")
        status_rows.append(
            [
                title,
                f"`{run.get('script', '')}`",
                status,
                num(run.get("seconds"), "s") if run.get("seconds") else DASH,
            ]
        )
        sections += [f"## {title}", ""]
        if spec:
            sections += [f"*Compared with: {spec.peers}.*", ""]
        if "data" in run and spec:
            try:
                notes = run["data"].get("notes") if isinstance(run["data"], dict) else None
                area.notes = notes if isinstance(notes, dict) else {}
                spec.render(run["data"], area)
                area.body += _notes(run["data"], area.used_notes)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                area.body = [
                    "*The results of this run could not be tabulated "
                    f"({type(exc).__name__}: {exc}); "
                    "the script's own output below has the figures.*",
                    "",
                ]
                area.charts.clear()
        elif status == "missing":
            area.body = [f"*`{run.get('script')}` is not in the repository yet.*", ""]
        else:
            area.body = [f"*No results in this run: {status}.*", ""]
        if status != "ok" and "data" in run:
            area.body.insert(0, f"*Status: {status}; the figures may be incomplete.*\n")
        for name, svg in area.charts.items():
            (assets / name).write_text(svg, encoding="utf-8")
        sections += area.body
        sections += _raw_output(run)
        losses += area.losses
    lines = [_intro(summary)]
    lines += ["## Where backendkit is slower", ""]
    if losses:
        lines += ["Every row below where backendkit lost in this run, and why:", ""]
        lines += [f"- {loss}" for loss in losses]
    else:
        lines += [
            "In this run backendkit was not slower than any raw library or peer it was "
            "compared with."
        ]
    lines += [""]
    lines += sections
    lines += _machine(summary)
    lines += ["## This run", ""]
    lines += table(["Area", "Script", "Status", "Duration"], status_rows)
    setup = summary.get("setup") or {}
    if setup:
        lines += ["Environments: " + "; ".join(f"`{k}` {v}" for k, v in setup.items()) + ".", ""]
    lines += [_REPRODUCE]
    page.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    import sys

    render(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]), Path(sys.argv[3]))
