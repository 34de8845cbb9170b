"""Per-request CPU cost of the request metrics, in-process: off, on, and on in multiprocess mode.

What is timed is the part of a request the metrics touch and nothing else: the pipeline
starts a request (``Pipeline.start``: request id, log context and, with metrics, the
in-flight gauge), the adapter records the route template and status, and the cycle
finishes (the access-log event and, with metrics, the count, the duration histogram and
the gauge). The rate-limit decision counter is timed alone on top (one ``hit`` of a
memory limiter, watched or not). The access log is configured at WARNING on every side,
so its cost is the same small constant everywhere and the differences are the metrics'.

Each mode runs in a fresh interpreter (prometheus-client chooses its value store, memory
or files, when it is first imported): ``off`` (a kit without metrics), ``on``
(``Metrics`` on its own registry) and ``multiprocess`` (``PROMETHEUS_MULTIPROC_DIR``
set: every value an mmap'd file, as under gunicorn). Rounds alternate between the modes
(off, on, multiprocess, off, ...); each round times ``--requests`` requests by the
process's CPU time (``time.process_time``, which the other work of a shared machine
disturbs far less than the wall clock) and reports microseconds per request. A mode is
its median round with the quartiles; the metrics' cost is a mode's median minus the
``off`` median. Target: at most 5 us per request in both modes.

    python benchmarks/bench_metrics.py [--quick] [--json out.json] [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = ("off", "on", "multiprocess")
TARGET_US = 5.0

# Run in a fresh interpreter: times one round of one mode and prints microseconds per
# request (the pipeline path) and per decision (the limiter path) as JSON.
_ROUND = r"""
import json, sys, time
sys.path.insert(0, {src!r})
from backendkit.logging import configure_logging
from backendkit.ratelimit import RateLimiter, Rule
from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit

mode, requests = {mode!r}, {requests}
settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)
metrics = None
if mode != "off":
    from prometheus_client import CollectorRegistry
    from backendkit.metrics import Metrics
    metrics = Metrics(CollectorRegistry())
limiter = RateLimiter("memory://")
kit = WebKit.from_settings(settings, limiter=limiter, metrics=metrics)
pipeline = Pipeline(kit)
routes = [f"/api/items/{{{{item_id}}}}", "/api/users/me", "/api/orders"]

def serve(count):
    for index in range(count):
        cycle = pipeline.start(method="GET", path="/api/items/1", request_id=None)
        if cycle.observer is not None:  # what each adapter does, as it does it
            cycle.route = routes[index % 3]
        cycle.status = 200
        cycle.finish()

rule = Rule("bench", "1000000/minute")

def decide(count):
    hit = limiter.hit
    for index in range(count):
        hit(rule, "ip:1")

serve(2000)  # warm-up: label children, caches, files
decide(2000)
started = time.process_time()
serve(requests)
per_request = (time.process_time() - started) / requests * 1e6
started = time.process_time()
decide(requests)
per_decision = (time.process_time() - started) / requests * 1e6
print(json.dumps({{"request_us": per_request, "decision_us": per_decision}}))
"""


def _round(mode: str, requests: int, directory: str) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if mode == "multiprocess":
        env["PROMETHEUS_MULTIPROC_DIR"] = directory
    code = _ROUND.format(src=str(ROOT / "src"), mode=mode, requests=requests)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} round failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    quartiles = statistics.quantiles(ordered, n=4) if len(ordered) >= 2 else [ordered[0]] * 3
    return {
        "median": round(statistics.median(ordered), 3),
        "q1": round(quartiles[0], 3),
        "q3": round(quartiles[2], 3),
        "rounds": [round(value, 3) for value in values],
    }


def run(rounds: int, requests: int) -> dict[str, Any]:
    """Interleaved rounds of every mode; medians, quartiles and the metrics' cost."""
    figures: dict[str, dict[str, list[float]]] = {
        mode: {"request_us": [], "decision_us": []} for mode in MODES
    }
    with tempfile.TemporaryDirectory(prefix="bk-bench-metrics-") as directory:
        for _ in range(rounds):
            for mode in MODES:
                for path in Path(directory).glob("*.db"):
                    path.unlink()  # each round starts as a fresh deployment would
                for name, value in _round(mode, requests, directory).items():
                    figures[mode][name].append(value)
    result: dict[str, Any] = {"requests_per_round": requests, "target_us": TARGET_US}
    for mode in MODES:
        result[mode] = {name: _summary(values) for name, values in figures[mode].items()}
    for mode in ("on", "multiprocess"):
        cost = {
            name: round(result[mode][name]["median"] - result["off"][name]["median"], 3)
            for name in ("request_us", "decision_us")
        }
        # The quartile ranges of the two modes overlap: the cost is within the noise.
        low = result[mode]["request_us"]["q1"] - result["off"]["request_us"]["q3"]
        cost["request_us_lowest"] = round(low, 3)
        cost["within_target"] = cost["request_us"] <= TARGET_US
        result[f"cost_{mode}"] = cost
    return result


def _span(figures: dict[str, Any]) -> str:
    return f"{figures['median']:7.3f} [{figures['q1']:.3f}-{figures['q3']:.3f}]"


def _print(result: dict[str, Any]) -> None:
    print(f"{result['requests_per_round']} requests per round, CPU us per request (median [q1-q3])")
    for mode in MODES:
        request, decision = result[mode]["request_us"], result[mode]["decision_us"]
        print(f"  {mode:<13} request {_span(request)}   limiter hit {_span(decision)}")
    for mode in ("on", "multiprocess"):
        cost = result[f"cost_{mode}"]
        verdict = "within" if cost["within_target"] else "OVER"
        print(
            f"  metrics cost ({mode}): {cost['request_us']:.3f} us a request ({verdict} the "
            f"{TARGET_US} us target), {cost['decision_us']:.3f} us a limiter decision"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 5,000 requests")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rounds, requests = (3, 5_000) if args.quick else (args.rounds, args.requests)
    result = run(rounds, requests)
    _print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
