"""Page sections for tokens, passwords, rate limiting and the generic ``groups`` shape.

Each renderer reads one benchmark script's JSON (never its printed output) and adds its
tables to an [`Area`][_format.Area]; a row where backendkit is slower gets a note keyed to it.
"""

from __future__ import annotations

from typing import Any

from _format import DASH, SLOWER, Area, cell, num, speed, us
from _svg import bar_chart, line_chart

__all__ = ["generic", "passwords", "ratelimit", "tokens"]

_TOKENS_WHY = (
    "backendkit checks more than `jwt.decode` before and around the signature: the 8 KiB cap, "
    "canonical base64url for every segment, the header allowlist, `kid` selection and "
    "duplicate JSON members. Those checks cost microseconds; where the signature check is "
    "cheap they are a visible share of the time."
)


def tokens(data: dict[str, Any], area: Area) -> None:
    """``bench_tokens.py``: verifications per second against plain ``jwt.decode``."""
    area.body += [
        "`TokenService.verify_access` against plain `jwt.decode` with the same key object and the",
        "same checks (fixed algorithm, required `exp`/`iat`/`jti`/`sub`, exact `iss` and `aud`,",
        'zero leeway, `type == "access"`); the claims both return are compared before timing.',
        "",
    ]
    rows = []
    slower = False
    for row in data["results"]:
        ours, theirs = row["backendkit_ops_per_s"], row["pyjwt_ops_per_s"]
        ratio = speed(ours, theirs, higher_is_better=True)
        ref = ""
        if ratio is not None and ratio <= SLOWER:
            slower = True
            ref = area.lose(
                row["algorithm"],
                f"{row['algorithm']} verification at {ratio:.2f}x of plain pyjwt",
                area.why(row["algorithm"], _TOKENS_WHY),
                ratio=ratio,
            )
        rows.append(
            [
                row["algorithm"],
                f"{row['token_bytes']} B",
                num(ours, "/s"),
                cell(num(theirs, "/s"), ratio, ref),
            ]
        )
    area.table(["Algorithm", "Token", "backendkit (verifications/s)", "pyjwt `jwt.decode`"], rows)
    if not slower:
        area.body += [
            "backendkit checks more (the 8 KiB cap, canonical base64url, the header allowlist,",
            "duplicate JSON members) and is still not slower: its keys are prepared once when the",
            "service is built and the signature is checked with the algorithm object directly,",
            "where `jwt.decode` prepares the key and merges its options on every call.",
            "",
        ]


_PASSWORDS_WHY = (
    "The hashing work is the same; handing each hash to the thread pool and back costs a "
    "little, and the pool is bounded (at most 4 threads, here one per core) so hashing cannot "
    "starve the rest of the process. In exchange the loop keeps serving other requests (the "
    "lag columns); blocking calls finish sooner only because nothing else runs."
)


def passwords(data: dict[str, Any], area: Area) -> None:
    """``bench_passwords.py``: event-loop lag while 16 bcrypt verifications run."""
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
    label = "`bcrypt.checkpw` in a coroutine"
    ref = ""
    if wall is not None and wall <= SLOWER:
        ref = area.lose(
            f"{label}, wall time",
            f"wall time for 16 verifications at {wall:.2f}x of blocking calls",
            area.why("wall time", _PASSWORDS_WHY),
            ratio=wall,
        )
    area.table(
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
                label,
                num(direct["lag_p50_ms"], "ms"),
                cell(num(direct["lag_p99_ms"], "ms"), lag),
                num(direct["lag_max_ms"], "ms"),
                str(direct["ticks"]),
                cell(num(direct["wall_s"], "s"), wall, ref),
            ],
        ],
    )
    area.body += [
        f"The event loop stays responsive: p99 lag is {lag or 0:,.0f} times lower than when",
        "bcrypt blocks the loop, where every other request waits for the hashes.",
        "",
    ]


STRATEGY = {
    "sliding-window-counter": "sliding window counter",
    "fixed-window": "fixed window",
    "moving-window": "moving window",
}

_HIT_WHY = (
    "backendkit's hit returns the whole decision (remaining, reset, retry-after) computed by "
    "one script on the Redis server's clock, while `limits`' `hit` returns only a boolean. "
    "Once headers are needed (`hit` + `get_window_stats`, the next column) backendkit is the "
    "faster one."
)
_HEADERS_WHY = (
    "backendkit computes the whole decision, header numbers included, in one call; in this "
    "run that was slower than `limits`' two calls."
)


def ratelimit(data: dict[str, Any], area: Area) -> None:
    """``bench_ratelimit.py``: cost per hit, Redis commands per request, a hung Redis."""
    _cost_per_hit(data, area)
    _round_trips(data, area)
    _hung(data, area)


def _cost_per_hit(data: dict[str, Any], area: Area) -> None:
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
        name = f"{row['storage']}, {STRATEGY.get(row['strategy'], row['strategy'])}"
        case = f"{row['storage']}, {row['strategy']}"
        hit_ref = hdr_ref = ""
        if hit is not None and hit <= SLOWER:
            hit_ref = area.lose(
                f"{name}: `hit`",
                f"a bare `hit` on {name} at {hit:.2f}x of `limits`' `hit`",
                area.why(f"{case}: hit", _HIT_WHY),
                ratio=hit,
            )
        if hdr is not None and hdr <= SLOWER:
            hdr_ref = area.lose(
                f"{name}: `hit` + headers",
                f"a hit with headers on {name} at {hdr:.2f}x of `limits`",
                area.why(f"{case}: hit + headers", _HEADERS_WHY),
                ratio=hdr,
            )
        rows.append(
            [
                name,
                us(best["backendkit_hit"]),
                cell(us(best["limits_hit"]), hit, hit_ref),
                us(best["backendkit_hit_headers"]),
                cell(us(best["limits_hit_stats"]), hdr, hdr_ref),
                "yes" if row["same_decisions"] else "**no**",
            ]
        )
    area.table(
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


def _round_trips(data: dict[str, Any], area: Area) -> None:
    trips = data.get("round_trips") or []
    if not trips:
        return
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
        name = f"{STRATEGY.get(row['strategy'], row['strategy'])}, `{row['limits']}`"
        cells = [name, num(row["backendkit"])]
        for peer in peers[1:]:
            ratio = speed(row["backendkit"], row.get(peer), higher_is_better=False)
            ref = ""
            if ratio is not None and ratio <= SLOWER:
                ref = area.lose(
                    f"{name}: {peer}",
                    f"{row['backendkit']:g} Redis commands per request against "
                    f"{row[peer]:g} for {peer} ({name})",
                    area.why(
                        f"round trips, {row['strategy']}, {row['limits']}",
                        "(the benchmark gives no reason)",
                    ),
                )
            cells.append(cell(num(row.get(peer)), ratio, ref))
        cells.append("yes" if row.get("same_remaining") else "**no**")
        rows.append(cells)
    area.table(["Strategy, limits", *peers, "same remaining"], rows)
    area.charts["ratelimit-round-trips.svg"] = bar_chart(
        "Redis commands per rate-limited request (with headers)",
        [f"{STRATEGY.get(r['strategy'], r['strategy'])}, {r['limits']}" for r in trips],
        {peer: [r.get(peer) for r in trips] for peer in peers},
        unit="commands per request (fewer is better)",
        width=760,
    )
    area.body += [
        "![Redis commands per request](assets/performance/ratelimit-round-trips.svg)",
        "",
    ]


def _hung(data: dict[str, Any], area: Area) -> None:
    hung = data.get("hung")
    if not hung:
        return
    ours, peer = hung["backendkit"], hung["flask_limiter_swallow_errors"]
    peer_time = (
        f"more than {peer['cap']:g} s (stopped)"
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
    area.table(
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


def generic(data: dict[str, Any], area: Area) -> None:
    """The recommended shape: ``groups`` (tables) and ``series`` (line charts).

    A row's ``note`` explains that row when backendkit is slower than it.
    """
    if not data.get("groups") and not data.get("series"):
        raise KeyError("groups")
    for group in data.get("groups", []):
        higher = group.get("higher_is_better", False)
        unit = group.get("unit", "")
        rows_in = group["rows"]
        ours = next((r for r in rows_in if r["impl"] == "backendkit"), None)
        area.body += [f"### {group['name']}", ""]
        if group.get("description"):
            area.body += [group["description"], ""]
        rows = []
        for row in rows_in:
            relative = None
            ref = ""
            if ours is not None and row is not ours:
                relative = speed(ours["value"], row["value"], higher_is_better=higher)
                if relative is not None and relative <= SLOWER:
                    ref = area.lose(
                        row["impl"],
                        f"{group['name']}: {relative:.2f}x of {row['impl']}",
                        row.get("note")
                        or area.why(
                            f"{group['name']}: {row['impl']}", "(the benchmark gives no reason)"
                        ),
                        ratio=relative,
                    )
            rows.append([row["impl"], cell(num(row["value"], unit), relative, ref)])
        area.table(["Implementation", unit or "value"], rows)
    slug = area.title.lower().replace(" ", "-")
    for index, series in enumerate(data.get("series", [])):
        name = f"{slug}-{index + 1}.svg"
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
