"""The adapter sections of the performance page (``bench_adapters*.py``'s JSON).

Each app's figures are the median of interleaved rounds with the quartiles around it. A
comparison sits on its own row (ours against the app it is compared with, and the target
the issue set), says "same" when the two apps' quartile ranges overlap, and otherwise the
ratio; a comparison where backendkit is slower carries the note that says why. The
per-duty breakdown sits beside the bare rows.
"""

from __future__ import annotations

from typing import Any

from _format import DASH, Area, num
from _svg import bar_chart

__all__ = ["adapters", "adapters_django"]

_TITLES = {
    "fastapi": "FastAPI (uvicorn, one worker)",
    "flask": "Flask (gunicorn gthread, one worker)",
}
_ABOUT = {
    "bare": "the bare framework",
    "backendkit": "backendkit's adapter: request id, log context, security headers, error "
    "envelope, body cap and one JSON access-log line",
    "backendkit-nolog": "the same with the access-log line filtered out",
    "backendkit-limit": "backendkit's adapter plus a route limit",
    "recipe": "the stack users build: a request-id middleware and a structlog access log",
}
_FASTAPI_RECIPE = "asgi-correlation-id and a structlog access-log middleware"
_FLASK_RECIPE = "a request-id recipe and a structlog access log"
_PEERS = {
    "fastapi-recipe": _FASTAPI_RECIPE,
    "fastapi-recipe-slowapi": f"{_FASTAPI_RECIPE}, plus slowapi",
    "flask-recipe": _FLASK_RECIPE,
    "flask-recipe-limiter": f"{_FLASK_RECIPE}, plus Flask-Limiter",
}
_DUTY_ORDER = (
    "request id", "log context", "headers", "envelope", "body cap", "access line", "rest",
)  # fmt: skip
_DUTY_ABOUT = {
    "request id": "a new id from 16 random bytes (an incoming one is validated instead)",
    "log context": "the request's id, method and path bound to the log context, then cleared",
    "headers": "`X-Request-ID`, `X-Content-Type-Options` and the JSON charset on the response",
    "envelope": "the error catcher around the route (the envelope for any error) and `success()`",
    "body cap": "the admission check and the counting `receive` wrapper",
    "access line": "one JSON `request_completed` line formatted and written (against filtered out)",
    "rest": "the cycle object, the middleware's own calls and its `send` wrapper",
}


def _spread(figure: dict[str, Any], unit: str) -> str:
    """The median and its quartiles: ``10,460 req/s (10,100 to 10,800)`` with an en dash."""
    return f"{num(figure['median'], unit)} ({num(figure['q1'])}{DASH}{num(figure['q3'])})"


def _verdict(compared: dict[str, Any]) -> str:
    if compared["verdict"] == "same":
        return "same"
    ratio = compared["ratio"]
    return f"{ratio:.2f}x" if ratio >= 1 else f"**{ratio:.2f}x** (slower)"


def _target(target: float | None, rows: tuple[dict[str, Any], ...]) -> str:
    """Met when every ratio reaches the target; not met when a measure is slower and short
    of it; undecided when only overlapping spreads (a "same") stand below it."""
    if target is None:
        return DASH
    if all(c["ratio"] >= target for c in rows):
        return f"{target:.2f}x (met)"
    if any(c["verdict"] == "slower" and c["ratio"] < target for c in rows):
        return f"{target:.2f}x (**not met**)"
    return f"{target:.2f}x (undecided: the spreads overlap)"


def _comparisons(area: Area, rows: list[dict[str, Any]], label: Any) -> None:
    """The comparisons table; a slower comparison is noted on its row and listed as a loss."""
    table = []
    for row in rows:
        ours, other = label(row["ours"]), label(row["other"])
        name = f"{ours} against {other}"
        rps, cpu = row["rps"], row["cpu"]
        cells = [_verdict(rps), _verdict(cpu)]
        slower = [c for c in (rps, cpu) if c["verdict"] == "slower"]
        if slower:
            worst = min(c["ratio"] for c in slower)
            why = area.why(name, row.get("note") or "backendkit does more per request.")
            ref = area.lose(name, f"{name} at {worst:.2f}x", why, ratio=worst)
            cells = [f"{c} · {ref}" if "slower" in c else c for c in cells]
        table.append([name, row["what"], _target(row.get("target"), (rps, cpu)), *cells])
    area.table(["Comparison", "what it shows", "target", "throughput", "server CPU"], table)


def _duties(area: Area, duties: dict[str, float], bare_cpu: dict[str, float]) -> None:
    """The per-duty breakdown (µs of CPU per request), beside the bare apps' own CPU."""
    area.body += [
        "#### What each duty costs",
        "",
        "Microseconds of CPU per request for each of the adapter's duties, measured in one",
        "process on the server's core on the pure ASGI path FastAPI takes (the Flask and Django",
        "adapters share every duty through the same pipeline, except the headers (added as",
        "Flask's WSGI response starts, to Django's response object) and the envelope (the",
        "framework's own error hooks there). Each duty is timed alone",
        "in a loop, with warm caches: inside a whole app, among the framework's own code, each",
        "costs more, as the whole-app figures below show. The bare",
        "apps' own server CPU per request above puts them in scale: "
        + ", ".join(f"`{name}` {num(value, 'µs')}" for name, value in bare_cpu.items())
        + ".",
        "",
    ]
    rows = [[duty, num(duties[duty], "µs"), _DUTY_ABOUT[duty]] for duty in _DUTY_ORDER]
    rows += [
        ["**all, access line off**", num(duties["total, access line off"], "µs"), "the sum"],
        ["**all**", num(duties["total"], "µs"), "the middleware stack per request"],
    ]
    area.table(["Duty", "CPU per request", "what it does"], rows)


def _in_process(
    area: Area, figures: dict[str, dict[str, float]], duties: dict[str, float] | None
) -> None:
    """Whole apps in one process: the adapters' own cost, without a server or a network."""
    area.body += [
        "#### Whole apps in one process",
        "",
        "CPU per request of each whole app called in one process on the server's core (the",
        "ASGI or WSGI call, no server, no network, every log line to a file), alternating",
        "repeats, the median: what the frameworks and the adapters themselves cost, which the",
        "server's own work dilutes in the rows above.",
        "",
    ]

    def ratio(ours: float | None, other: float | None) -> str:
        return f" · {other / ours:.2f}x" if ours and other else ""

    rows = []
    for framework, apps in figures.items():
        bare, recipe = apps.get("bare"), apps.get("recipe")
        rows.append(
            [
                _TITLES.get(framework, framework).split(" (")[0],
                num(bare, "µs"),
                num(apps.get("backendkit-nolog"), "µs") + ratio(apps.get("backendkit-nolog"), bare),
                num(apps.get("backendkit"), "µs") + ratio(apps.get("backendkit"), bare),
                num(recipe, "µs") + ratio(apps.get("backendkit"), recipe),
            ]
        )
    fastapi = figures.get("fastapi", {})
    if duties and "bare" in fastapi and "backendkit-nolog" in fastapi:
        whole = fastapi["backendkit-nolog"] - fastapi["bare"]
        area.body += [
            f"In FastAPI, backendkit with the access line off costs {num(whole, 'µs')} more per",
            f"request than the bare app here, against {num(duties['total, access line off'], 'µs')}"
            " for its duties timed alone.",
            "",
        ]
    area.table(
        [
            "Framework",
            "bare",
            "backendkit, access line off (against bare)",
            "backendkit (against bare)",
            "recipe (backendkit against it)",
        ],
        rows,
    )


#: The access line off against the bare framework (bench_adapters.COMPARISONS).
_NOLOG_TARGET = 0.90


def _instructions(area: Area, figures: dict[str, dict[str, int]]) -> None:
    """Instructions per request (callgrind): the figures the machine's load cannot move."""
    area.body += [
        "#### Instructions per request",
        "",
        "The same whole apps, in one process, counted by valgrind's callgrind: the",
        "instructions one request executes (two runs of 200 and 1,200 requests, their",
        "difference; start-up cancels out). Unlike the times above, other work on the",
        "machine cannot change these counts, so the ratios here are the adapters' own. The",
        "kernel's side of a system call is not counted. Where the served rows above cannot",
        "decide a target (their spreads overlap), this is the figure that does.",
        "",
    ]

    def ratio(ours: int | None, bare: int | None) -> str:
        return f" · {bare / ours:.3f}x" if ours and bare else ""

    rows = []
    for framework, apps in figures.items():
        bare, nolog = apps.get("bare"), apps.get("backendkit-nolog")
        met = "met" if bare and nolog and bare / nolog >= _NOLOG_TARGET else "**not met**"
        rows.append(
            [
                _TITLES.get(framework, framework).split(" (")[0],
                num(bare),
                num(nolog) + ratio(nolog, bare),
                f"{_NOLOG_TARGET:.2f}x ({met})",
                num(apps.get("backendkit")) + ratio(apps.get("backendkit"), bare),
            ]
        )
    area.table(
        [
            "Framework",
            "bare",
            "backendkit, access line off (against bare)",
            "target",
            "backendkit (against bare)",
        ],
        rows,
    )


def adapters(data: dict[str, Any], area: Area) -> None:
    """``bench_adapters.py``: apps per framework, comparisons, and the per-duty breakdown."""
    area.body += [
        "`GET /json` answered with the same bytes by every app (checked before timing), the",
        "server pinned to one core and the load generator "
        f"({data['loader']}, {data['connections']} connections) to the other. The apps of a",
        f"framework run round by round (A, B, C, A, B, C, ...), {data['rounds']} rounds of",
        f"{data['seconds_per_round']:.0f} s each, so load that comes and goes on the machine falls",
        "on all of them; each figure is the median of the rounds with the quartiles in brackets.",
        "Requests per second, and the server's CPU time per request (from /proc), which other",
        "work on the machine disturbs less. A comparison whose quartile ranges overlap is",
        "*same*: the machine's noise could have made the difference.",
        "",
        "The `-recipe` rows are the stacks users assemble today for the same duties, checked",
        "into `benchmarks/` with the recipe each follows: for FastAPI "
        f"{_FASTAPI_RECIPE} (pure ASGI; `_peer_fastapi.py`), for Flask {_FLASK_RECIPE}",
        "(`_peer_flask.py`), both with structlog's common JSON setup (`_peer_logging.py`).",
        "",
    ]
    apps: dict[str, dict[str, Any]] = data["apps"]
    by_set: dict[str, list[str]] = {}
    for name, app in apps.items():
        by_set.setdefault(app["set"], []).append(name)
    for name_of_set, names in by_set.items():
        rows = []
        for name in names:
            kind = name.removeprefix(f"{name_of_set}-")
            about = _PEERS.get(name) or _ABOUT.get(kind, "")
            rows.append(
                [
                    f"`{name}`",
                    about,
                    _spread(apps[name]["rps"], "req/s"),
                    _spread(apps[name]["cpu_us"], "µs"),
                ]
            )
        area.body += [f"### {_TITLES.get(name_of_set, name_of_set)}", ""]
        area.table(["App", "what it is", "throughput", "server CPU per request"], rows)
        _comparisons(
            area,
            [r for r in data["comparisons"] if apps[r["ours"]]["set"] == name_of_set],
            lambda name: f"`{name}`",
        )
    if data.get("duties"):
        bare = {n: apps[n]["cpu_us"]["median"] for n in apps if n.endswith("-bare")}
        _duties(area, data["duties"], bare)
    if data.get("in_process"):
        _in_process(area, data["in_process"], data.get("duties"))
    if data.get("instructions"):
        _instructions(area, data["instructions"])
    names = list(apps)
    area.charts["adapters-throughput.svg"] = bar_chart(
        "JSON endpoint throughput (median of the rounds)",
        names,
        {"requests per second": [apps[n]["rps"]["median"] for n in names]},
        unit="requests per second (more is better)",
        width=760,
    )
    area.body += ["![Throughput per app](assets/performance/adapters-throughput.svg)", ""]


_DJANGO_LABELS = {
    "bare": ("bare Django", "the stock middleware only"),
    "backendkit": ("Django + backendkit", "`BackendKitMiddleware` and one JSON access-log line"),
    "backendkit_nolog": ("Django + backendkit, access log off", "the same, the line filtered out"),
    "structlog": ("Django + django-structlog", "its `RequestMiddleware` and documented setup"),
    "backendkit_limit": ("Django + backendkit, rate limit", "plus `@rate_limit` (memory)"),
    "structlog_ratelimit": (
        "Django + django-structlog + django-ratelimit",
        "plus `@ratelimit` (local-memory cache)",
    ),
}


def adapters_django(data: dict[str, Any], area: Area) -> None:
    """``bench_adapters_django.py``: bare Django, backendkit and django-structlog, interleaved."""
    area.body += [
        "`GET /api/item` under gunicorn (one sync worker, pinned to one core; the load generator",
        f"on the other, {data['concurrency']} connections, a new connection per request as the",
        "sync worker closes each). Every app has Django's stock middleware and answers the same",
        f"bytes. The apps run round by round, {data['rounds']} rounds of",
        f"{data['requests_per_round']:,} requests; each figure is the median with the quartiles in",
        "brackets, and a comparison whose quartile ranges overlap is *same*. The django-structlog",
        "rows follow its documented setup (`_peer_django.py`), with its `request_started` line",
        "below the log level so that every app writes one line per request.",
        "",
    ]
    apps: dict[str, dict[str, Any]] = data["apps"]
    rows = [
        [
            _DJANGO_LABELS[mode][0],
            _DJANGO_LABELS[mode][1],
            _spread(app["rps"], "req/s"),
            _spread(app["cpu_us"], "µs"),
        ]
        for mode, app in apps.items()
    ]
    area.table(["App", "what it is", "throughput", "worker CPU per request"], rows)
    _comparisons(area, data["comparisons"], lambda mode: _DJANGO_LABELS[mode][0])
