"""The adapter sections of the performance page (``bench_adapters*.py``'s JSON).

Here each app is compared with the first app of its group, its *baseline* (the bare
framework or the peer): the ratio sits on the row of the app it describes, and so does the
note that explains it.
"""

from __future__ import annotations

import statistics
from typing import Any

from _format import SLOWER, Area, cell, num, speed
from _svg import bar_chart

__all__ = ["adapters", "adapters_django"]

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
_TITLES = {
    "fastapi": "FastAPI (uvicorn, one worker)",
    "fastapi-limit": "FastAPI with a rate limit (memory storage, headers on)",
    "flask": "Flask (gunicorn gthread, one worker)",
    "flask-limit": "Flask with a rate limit (memory storage, headers on)",
}


def adapters(data: dict[str, Any], area: Area) -> None:
    """``bench_adapters.py``: requests per second and server CPU per request, per app."""
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
        "deployment usually keeps. In this section each app is compared with the first app of",
        "its group (its *baseline*): `0.80x` means 80 % of the baseline's throughput.",
        "",
    ]
    groups: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name, row in data.items():
        if isinstance(row, dict) and "group" in row:  # other top-level keys are not apps
            groups.setdefault(row["group"], []).append((name, row))
    chart_names: list[str] = []
    chart_values: list[float] = []
    for group, entries in groups.items():
        base_name, base = entries[0]
        by_name = dict(entries)
        rows = []
        for name, row in entries:
            chart_names.append(name)
            chart_values.append(row["rps"])
            if name == base_name:
                rows.append(
                    [
                        f"`{name}` (baseline)",
                        num(row["rps"], "req/s"),
                        num(row.get("cpu_us_per_request"), "µs"),
                    ]
                )
                continue
            rps_rel = speed(row["rps"], base["rps"], higher_is_better=True)
            cpu_rel = speed(row.get("cpu_us_per_request"), base.get("cpu_us_per_request"),
                            higher_is_better=False)  # fmt: skip
            ref = ""
            full = "backendkit" in name and not name.endswith(("-nolog", "-floor"))
            if full and rps_rel is not None and rps_rel <= SLOWER:
                why = base.get("note") or _ADAPTER_WHY.get(
                    base_name, "backendkit does more per request than this app."
                )
                why += _context(name, group, base_name, base, by_name)
                ref = area.lose(f"`{name}`", f"`{name}` at {rps_rel:.2f}x of `{base_name}`", why,
                                ratio=rps_rel)  # fmt: skip
            rows.append(
                [
                    f"`{name}`",
                    cell(num(row["rps"], "req/s"), rps_rel, ref),
                    cell(num(row.get("cpu_us_per_request"), "µs"), cpu_rel),
                ]
            )
        area.body += [f"### {_TITLES.get(group, group)}", ""]
        area.table(["App", "throughput", "server CPU per request"], rows)
    if chart_values:
        area.charts["adapters-throughput.svg"] = bar_chart(
            "JSON endpoint throughput",
            chart_names,
            {"requests per second": chart_values},
            unit="requests per second (more is better)",
            width=760,
        )
        area.body += ["![Throughput per app](assets/performance/adapters-throughput.svg)", ""]


def _context(
    name: str, group: str, base_name: str, base: dict[str, Any], by_name: dict[str, Any]
) -> str:
    """The -nolog, -serverlog and -floor rows' ratios, said in the note of a full app's row."""
    text = ""
    for other, sentence in (
        (f"{name}-nolog", "Without the access-log line `{name}` runs at {r:.2f}x of `{base}`."),
        (f"{base_name}-serverlog", "With the server's own access log on, `{base}` itself runs "
         "at {r:.2f}x."),
        (f"{group}-floor", "The hand-written minimum (`{other}`) runs at {r:.2f}x of `{base}`."),
    ):  # fmt: skip
        if other in by_name:
            r = speed(by_name[other]["rps"], base["rps"], higher_is_better=True)
            text += " " + sentence.format(name=name, base=base_name, other=other, r=r)
    return text


_DJANGO_WHY = {
    "backendkit": "The middleware adds a request id, binds the log context, sets security "
    "headers, wraps the view in the error envelope and writes one JSON access-log line per "
    "request.",
    "backendkit_nolog": "Without the access-log line the middleware still creates the request "
    "id, binds the log context, adds the security headers and wraps the view in the error "
    "handler; the bare app does none of it.",
}


def adapters_django(data: dict[str, Any], area: Area) -> None:
    """``bench_adapters_django.py``: bare Django against Django with the middleware."""
    medians = data["median_rps"]
    cpu = {m: statistics.median(v) for m, v in (data.get("cpu_us_per_request") or {}).items()}
    area.body += [
        "`GET /api/item` under gunicorn (one sync worker, pinned to one core; the load generator",
        f"on the other, {data.get('concurrency', '?')} connections, a new connection per request",
        "as the sync worker closes each). Both apps have Django's stock middleware; the",
        "backendkit app adds `BackendKitMiddleware` (request id, log context, security headers,",
        "errors) and a JSON access-log line per request. The worker's CPU time per request (from",
        "/proc) is disturbed less by other load on the machine than throughput is. Each app is",
        "compared with bare Django, the baseline.",
        "",
    ]
    labels = {
        "bare": "bare Django (baseline)",
        "backendkit": "Django + backendkit",
        "backendkit_nolog": "Django + backendkit, access log off",
    }
    rows = []
    for mode, label in labels.items():
        if mode not in medians:
            continue
        if mode == "bare":
            rows.append([label, num(medians[mode], "req/s"), num(cpu.get(mode), "µs")])
            continue
        rps_rel = speed(medians[mode], medians.get("bare"), higher_is_better=True)
        cpu_rel = speed(cpu.get(mode), cpu.get("bare"), higher_is_better=False)
        ref = ""
        if rps_rel is not None and rps_rel <= SLOWER:
            why = area.why(mode, _DJANGO_WHY[mode])
            if mode == "backendkit":
                ref = area.lose(label, f"{label} at {rps_rel:.2f}x of bare Django", why,
                                ratio=rps_rel)  # fmt: skip
            else:
                ref = area.note(label, why)
        rows.append(
            [
                label,
                cell(num(medians[mode], "req/s"), rps_rel, ref),
                cell(num(cpu.get(mode), "µs"), cpu_rel),
            ]
        )
    area.table(["App", "throughput", "worker CPU per request"], rows)
