"""Page sections for observability: request metrics (in-process and against the exporters
users install) and request tracing.

Each renderer reads one benchmark script's JSON (never its printed output) and adds its
tables to an [`Area`][_format.Area]; a row where backendkit costs more gets a note keyed to it.
"""

from __future__ import annotations

from typing import Any

from _format import DASH, SLOWER, Area, cell, num, speed

__all__ = ["metrics", "metrics_peers", "tracing"]

_PEER_NAMES = {
    "backendkit": "backendkit `Metrics`",
    "instrumentator": "prometheus-fastapi-instrumentator",
    "starlette_exporter": "starlette-exporter",
    "flask_exporter": "prometheus-flask-exporter",
    "django_prometheus": "django-prometheus",
    "otel": "OpenTelemetry instrumentation (SDK)",
}
_FRAMEWORKS = {"fastapi": "FastAPI", "flask": "Flask", "django": "Django"}


def _spread(figures: dict[str, Any], unit: str = "µs") -> str:
    return f"{num(figures['median'], unit)} [{num(figures['q1'])}{DASH}{num(figures['q3'])}]"


def metrics(data: dict[str, Any], area: Area) -> None:
    """``bench_metrics.py``: a request's CPU cost with metrics off, on and in multiprocess mode."""
    target = data["target_us"]
    area.body += [
        "The part of a request the metrics touch (the pipeline starting and finishing a request,",
        "the route template and status recorded), timed by process CPU time in fresh interpreters,",
        "rounds interleaved; median round [quartiles], microseconds per request. `multiprocess`",
        "has `PROMETHEUS_MULTIPROC_DIR` set: every value is an mmap'd file, as under gunicorn.",
        f"Target: at most {num(target, 'µs')} of CPU per request in both modes.",
        "",
    ]
    rows = [["off", _spread(data["off"]["request_us"]), DASH, DASH]]
    for mode in ("on", "multiprocess"):
        cost = data[f"cost_{mode}"]
        verdict = "within" if cost["within_target"] else "**over**"
        rows.append(
            [
                mode,
                _spread(data[mode]["request_us"]),
                num(cost["request_us"], "µs"),
                f"{verdict} ({num(cost['decision_us'], 'µs')} per limiter decision)",
            ]
        )
    area.table(["Mode", "CPU per request", "Metrics' cost", f"{num(target, 'µs')} target"], rows)


def metrics_peers(data: dict[str, Any], area: Area) -> None:
    """``bench_metrics_peers.py``: what request metrics add to a whole app, against peers."""
    area.body += [
        "One route (`GET /api/items/{id}`) called in-process (ASGI or WSGI, no server), each",
        "contender a pair of apps that differ only by the metrics, each pair in a fresh",
        "interpreter with its rounds alternating; CPU microseconds per request (medians) and the",
        "cost: instrumented minus plain. The OpenTelemetry instrumentations record spans and",
        "their own metrics into the SDK (spans batched to an exporter that drops them).",
        "backendkit's second row has `PROMETHEUS_MULTIPROC_DIR` set (multiprocess mode, as under",
        "gunicorn or uvicorn with several workers).",
        "",
    ]
    for framework, title in _FRAMEWORKS.items():
        entries = {
            key.split("/", 1)[1]: value
            for key, value in data.items()
            if isinstance(value, dict) and key.startswith(f"{framework}/")
        }
        if not entries:
            continue
        ours = entries.get("backendkit", {}).get("cost_us")
        rows = []
        for contender, figures in entries.items():
            name = _PEER_NAMES.get(contender, contender)
            cost = figures["cost_us"]
            relative = ref = None
            if contender != "backendkit" and ours is not None and ours > 0 and cost > 0:
                relative = speed(ours, cost, higher_is_better=False)
                if relative is not None and relative <= SLOWER:
                    ref = area.lose(
                        f"{title}: {name}",
                        f"{title} request metrics: {relative:.2f}x of {name}",
                        area.why(f"{framework}/{contender}", "(the benchmark gives no reason)"),
                        ratio=relative,
                    )
            rows.append(
                [
                    name,
                    num(figures["plain_us"], "µs"),
                    num(figures["metrics_us"], "µs"),
                    cell(num(cost, "µs"), relative, ref or ""),
                ]
            )
        multiprocess = data.get(f"multiprocess/{framework}/backendkit")
        if isinstance(multiprocess, dict):
            ours_at = next(
                (i + 1 for i, row in enumerate(rows) if row[0] == _PEER_NAMES["backendkit"]), 0
            )
            rows.insert(
                ours_at,
                [
                    f"{_PEER_NAMES['backendkit']} (multiprocess)",
                    num(multiprocess["plain_us"], "µs"),
                    num(multiprocess["metrics_us"], "µs"),
                    num(multiprocess["cost_us"], "µs"),
                ],
            )
        area.body += [f"### {title}", ""]
        area.table(["Contender", "Plain app", "With metrics", "Cost per request"], rows)


def tracing(data: dict[str, Any], area: Area) -> None:
    """``bench_tracing.py``: a request's CPU cost with tracing off, API only, SDK recording."""
    area.body += [
        "The part of a request tracing touches, timed as the metrics are (fresh interpreters,",
        "interleaved rounds, process CPU time): `api` is `Tracing()` with no SDK (no-op spans),",
        "`sdk` the OpenTelemetry SDK recording every span to a batch exporter that drops them,",
        "`sdk-traceparent` the same with an incoming W3C `traceparent` on each request.",
        "",
    ]
    rows = [["off", _spread(data["off"]), DASH]]
    for mode, cost in data["cost_us"].items():
        rows.append([mode, _spread(data[mode]), num(cost, "µs")])
    area.table(["Mode", "CPU per request", "Tracing's cost"], rows)
