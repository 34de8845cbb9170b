"""Render docs/performance.md (and its SVG charts) from build/bench/summary.json.

The page is built from the structured results only: each benchmark script's JSON, the
runner's record of each run (status, a one-line reason, duration) and the machine. A
script's printed output never reaches the page (it stays in ``build/bench/<area>.log``),
and a page that would show a traceback, a path or a warning anyway is not written
(``_leaks.find_leaks``).

Every comparison is shown the same way (``_format``): absolute numbers and backendkit's
relative speed; a row where backendkit is slower carries a numbered note under its table,
and the "Where backendkit is slower" list at the top links to each one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _areas_cache import cache
from _areas_core import generic, passwords, ratelimit, tokens
from _areas_obs import metrics, metrics_peers, tracing
from _areas_web import adapters, adapters_django
from _format import DASH, Area, Loss, NoteCounter, num, table
from _leaks import PageLeakError, find_leaks

__all__ = ["AREAS", "STATES", "one_line", "render", "run_state", "unavailable"]

#: The states of one script's run. Anything but "ok" and "not run" fails the run.
STATES = ("ok", "failed", "timed out", "missing", "not run")


@dataclass(frozen=True)
class _Spec:
    title: str
    render: Callable[[dict[str, Any], Area], None]
    peers: str


AREAS: dict[str, _Spec] = {
    "tokens": _Spec("Tokens", tokens, "plain pyjwt"),
    "passwords": _Spec("Passwords and event-loop lag", passwords, "plain bcrypt in a coroutine"),
    "ratelimit": _Spec("Rate limiting", ratelimit, "plain `limits`, flask-limiter, slowapi"),
    "cache": _Spec("Caching", cache, "raw redis-py GET, cashews, aiocache, fastapi-cache2"),
    "repository": _Spec(
        "Repository and pagination",
        generic,
        "raw SQLAlchemy Core, advanced-alchemy, fastapi-pagination",
    ),
    "adapters": _Spec(
        "Flask and FastAPI adapters",
        adapters,
        "bare Flask and FastAPI; FastAPI + asgi-correlation-id + structlog (+ slowapi); "
        "Flask + a request-id recipe + structlog (+ Flask-Limiter)",
    ),
    "adapters_django": _Spec(
        "Django adapter",
        adapters_django,
        "bare Django; Django + django-structlog (+ django-ratelimit)",
    ),
    "metrics": _Spec("Request metrics", metrics, "the same requests without metrics"),
    "metrics_peers": _Spec(
        "Request metrics against the exporters",
        metrics_peers,
        "prometheus-fastapi-instrumentator, starlette-exporter, prometheus-flask-exporter, "
        "django-prometheus, OpenTelemetry's FastAPI, Django and WSGI instrumentations",
    ),
    "tracing": _Spec("Request tracing", tracing, "the same requests without tracing"),
}


def one_line(text: object, limit: int = 160) -> str:
    """The first line of ``text``, whitespace collapsed and cut at ``limit`` characters."""
    lines = str(text or "").strip().splitlines()
    line = " ".join(lines[0].split()) if lines else ""
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def run_state(run: dict[str, Any]) -> str:
    """One of ``STATES`` for a run record (an unknown status counts as "failed")."""
    status = str(run.get("status") or "not run")
    return next((s for s in STATES if status == s or status.startswith(s + " ")), "failed")


def unavailable(data: Any) -> dict[str, str]:
    """The peers a script marked unavailable, each with its one-line reason."""
    marked = data.get("unavailable") if isinstance(data, dict) else None
    if isinstance(marked, dict):
        return {one_line(k): one_line(v) for k, v in marked.items()}
    if isinstance(marked, list):
        return {one_line(m.get("peer")): one_line(m.get("reason")) for m in marked}
    return {}


_NO_FIGURES = {
    "failed": "the script failed ({reason})",
    "timed out": "the script was stopped at its time limit ({reason})",
    "missing": "the script is not in the repository",
    "not run": "the script was not run",
}


def _area(run: dict[str, Any], counter: NoteCounter, quick: bool) -> tuple[Area, list[str]]:
    """The section of one run, and what failed in it (for the runner, never the page)."""
    spec = AREAS.get(run["area"])
    area = Area(spec.title if spec else run["area"], counter=counter, quick=quick)
    state = run_state(run)
    problems = []
    if state == "ok" and "data" in run and spec:
        data = run["data"]
        notes = data.get("notes") if isinstance(data, dict) else None
        area.script_notes = notes if isinstance(notes, dict) else {}
        try:
            spec.render(data, area)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            problems.append(f"{area.title}: results not tabulated ({type(exc).__name__}: {exc})")
            area.body = ["*This run's results could not be tabulated.*", ""]
            area.charts.clear()
            area.losses.clear()
    elif state == "ok":
        problems.append(f"{area.title}: no results")
        area.body = ["*No figures: the script wrote no results.*", ""]
    else:
        if state != "not run":
            problems.append(f"{area.title}: {state} ({one_line(run.get('reason'))})")
        reason = one_line(run.get("reason")) or "no reason recorded"
        area.body = [f"*No figures: {_NO_FIGURES[state].format(reason=reason)}.*", ""]
    missing = unavailable(run.get("data"))
    if missing:
        area.body += [
            "*Not measured in this run: "
            + "; ".join(f"{peer} ({why})" for peer, why in missing.items())
            + ".*",
            "",
        ]
    return area, problems


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
comes from `{command}` ({when}; {duration}).

**How to read the tables.** Every cell holds an absolute number. Beside each number that is
not backendkit's is backendkit's *relative speed* against it: `1.26x` means backendkit does
the same work 1.26 times as fast, `0.80x (slower)` means it takes 25 % longer, and within
5 % is marked *same* (the noise of one run). Peers get the same options as backendkit, and
their results are checked equal to backendkit's before anything is timed. Where backendkit
is slower, the row links to a note under its table that says why.
"""


def _intro(summary: dict[str, Any], problems: list[str]) -> str:
    quick = summary.get("quick")
    command = "make bench-quick" if quick else "make bench"
    when = str(summary.get("generated", ""))[:10]
    seconds = sum(run.get("seconds") or 0 for run in summary["runs"])
    duration = f"{seconds / 60:.1f} minutes of benchmarks"
    text = _HEAD.format(command=command, when=when, duration=duration)
    rerun = [AREAS[a].title if a in AREAS else a for a in summary.get("rerun") or []]
    if rerun:
        text += (
            f"\n*{', '.join(rerun)}: run again on its own afterwards "
            "(`benchmarks/run_all.py --only`); each comparison is still between figures of "
            "one run.*\n"
        )
    if quick:
        text += (
            '\n!!! warning "A quick run"\n    These figures come from `--quick` mode: fewer '
            "iterations and rounds, so ratios are noisier than a full `make bench` run.\n"
        )
    if problems:
        failed = ", ".join(p.split(":", 1)[0] for p in problems)
        text += (
            '\n!!! failure "An incomplete run"\n    Some benchmarks did not finish in this run '
            f"({failed}): their sections show no figures.\n"
        )
    return text


def _losses(losses: list[Loss]) -> list[str]:
    lines = ["## Where backendkit is slower", ""]
    if not losses:
        return [
            *lines,
            "In this run backendkit was not slower than any raw library or peer it was "
            "compared with.",
            "",
        ]
    lines += ["Every row where backendkit lost in this run; each note says why.", ""]
    lines += [f"- **{x.area}:** {x.what} ([note {x.note}](#note-{x.note}))." for x in losses]
    return [*lines, ""]


def _this_run(summary: dict[str, Any]) -> list[str]:
    rows = []
    for run in summary["runs"]:
        spec = AREAS.get(run["area"])
        state = run_state(run)
        reason = one_line(run.get("reason"))
        missing = unavailable(run.get("data"))
        load = run.get("load") or []
        rows.append(
            [
                spec.title if spec else run["area"],
                f"`{run.get('script', '')}`",
                f"{state}: {reason}" if reason and state != "ok" else state,
                num(run.get("seconds"), "s") if run.get("seconds") else DASH,
                " / ".join(f"{value:.1f}" for value in load) or DASH,
                ", ".join(missing) or DASH,
            ]
        )
    lines = ["## This run", ""]
    lines += table(
        ["Area", "Script", "Status", "Duration", "Load before / after", "Peers not measured"],
        rows,
    )
    lines += [
        "*Load* is the machine's one-minute load average when each script started and ended",
        f"({summary['machine'].get('cores', '?')} cores; a script keeps one or two of them busy):",
        "above that, other work shared the machine and the figures of that area are noisier.",
        "",
    ]
    setup = summary.get("setup") or {}
    if setup:
        states = "; ".join(f"`{k}` {one_line(v)}" for k, v in setup.items())
        lines += [f"Environments: {states}.", ""]
    return lines


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
absolute numbers and ratios. Under the runner its output goes to `build/bench/<area>.log`
and its JSON, from which this page is rendered, to `build/bench/<area>.json`. A script that
fails, or a peer that fails without being marked unavailable with a reason, fails the run.

Benchmarks are never part of the test suite, and no test asserts a duration.
"""


def render(summary: dict[str, Any], page: Path, assets: Path) -> list[str]:
    """Write ``page`` and its charts under ``assets`` from a run summary.

    Returns what failed in the run (one line each, for the runner's console and exit
    status; the page only says which sections have no figures). Raises
    [`PageLeakError`][_leaks.PageLeakError], writing nothing, when the page would show a
    script's raw output.
    """
    counter = NoteCounter()
    sections: list[str] = []
    losses: list[Loss] = []
    charts: dict[str, str] = {}
    problems: list[str] = []
    for run in summary["runs"]:
        area, failed = _area(run, counter, quick=bool(summary.get("quick")))
        problems += failed
        spec = AREAS.get(run["area"])
        sections += [f"## {area.title}", ""]
        if spec:
            sections += [f"*Compared with: {spec.peers}.*", ""]
        sections += area.body
        losses += area.losses
        charts.update(area.charts)
    lines = [_intro(summary, problems), *_losses(losses), *sections]
    lines += _machine(summary)
    lines += _this_run(summary)
    lines += [_REPRODUCE]
    text = "\n".join(lines).rstrip() + "\n"
    leaks = find_leaks(text) + [f"{name}: {leak}" for name, svg in charts.items()
                                for leak in find_leaks(svg)]  # fmt: skip
    if leaks:
        raise PageLeakError(f"{page.name} not written; it would show: {'; '.join(leaks)}")
    assets.mkdir(parents=True, exist_ok=True)
    for old in assets.glob("*.svg"):
        old.unlink()
    for name, svg in charts.items():
        (assets / name).write_text(svg, encoding="utf-8")
    page.write_text(text, encoding="utf-8")
    return problems


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    import sys

    render(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]), Path(sys.argv[3]))
