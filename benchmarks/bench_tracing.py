"""Per-request CPU cost of request tracing, in-process: off, on without an SDK, on recording.

What is timed is the part of a request tracing touches: the pipeline starts a request
(``Pipeline.start``, with the adapter's header reader: with tracing, the server span is
started under any ``traceparent`` and made current), the adapter records the route
template and status, and the cycle finishes (with tracing, the span is named, completed
and ended and its ids bound to the access line). The access log is configured at WARNING
on every side, so its cost is the same small constant everywhere.

Modes, each in a fresh interpreter, rounds interleaved (off, api, sdk, off, ...):

- ``off``: a kit without tracing (what every app pays when it does not trace);
- ``api``: ``Tracing()`` with no SDK installed as the provider (the API's no-op spans:
  what a deployment pays with tracing configured in code but no exporter set up);
- ``sdk``: the OpenTelemetry SDK recording every span, a batch processor exporting to an
  exporter that drops them (the SDK's own cost, the export thread's CPU included, since
  ``time.process_time`` counts every thread);
- ``sdk-traceparent``: as ``sdk``, each request carrying a W3C ``traceparent``.

A round times ``--requests`` requests by the process's CPU time and reports microseconds
per request; a mode is its median round with the quartiles, and tracing's cost is a
mode's median minus the ``off`` median.

    python benchmarks/bench_tracing.py [--quick] [--json out.json] [--rounds N] [--requests N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks")]

from _rounds import summary  # the benchmarks' own helpers, beside this file

MODES = ("off", "api", "sdk", "sdk-traceparent")

_ROUND = r"""
import json, sys, time
sys.path.insert(0, {src!r})
from backendkit.logging import configure_logging
from backendkit.settings import Settings
from backendkit.web import Pipeline, WebKit

mode, requests = {mode!r}, {requests}
settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)
tracing = None
if mode != "off":
    from backendkit.tracing import Tracing
    provider = None
    if mode.startswith("sdk"):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
        from opentelemetry.sdk.trace.export import SpanExportResult

        class Drop(SpanExporter):
            def export(self, spans):
                return SpanExportResult.SUCCESS

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(Drop()))
    tracing = Tracing(provider)
kit = WebKit(settings=settings, tracing=tracing)
pipeline = Pipeline(kit)
routes = ["/api/items/{{item_id}}", "/api/users/me", "/api/orders"]
incoming = {{"x-request-id": None}}
if mode == "sdk-traceparent":
    incoming["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

def header(name):
    return incoming.get(name.lower())

def serve(count):
    for index in range(count):
        cycle = pipeline.start(
            method="GET", path="/api/items/1", request_id=None, headers=header
        )
        if cycle.observer is not None:  # what each adapter does, as it does it
            cycle.route = routes[index % 3]
        cycle.status = 200
        cycle.finish()

serve(2000)  # warm-up
started = time.process_time()
serve(requests)
per_request = (time.process_time() - started) / requests * 1e6
if mode.startswith("sdk"):
    provider.shutdown()
print(json.dumps({{"request_us": per_request}}))
"""


def _round(mode: str, requests: int) -> float:
    code = _ROUND.format(src=str(ROOT / "src"), mode=mode, requests=requests)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} round failed:\n{done.stderr[-3000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["request_us"])


def run(rounds: int, requests: int) -> dict[str, Any]:
    """Interleaved rounds of every mode; medians, quartiles and tracing's cost."""
    figures: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(rounds):
        for mode in MODES:
            figures[mode].append(_round(mode, requests))
    result: dict[str, Any] = {"requests_per_round": requests}
    for mode in MODES:
        result[mode] = summary(figures[mode])
    off = result["off"]["median"]
    result["cost_us"] = {mode: round(result[mode]["median"] - off, 2) for mode in MODES[1:]}
    return result


def _print(result: dict[str, Any]) -> None:
    print(f"{result['requests_per_round']} requests per round, CPU us per request (median [q1-q3])")
    for mode in MODES:
        figures = result[mode]
        cost = "" if mode == "off" else f"   tracing's cost {result['cost_us'][mode]:.2f} us"
        print(
            f"  {mode:<16} {figures['median']:7.2f} [{figures['q1']:.2f}-{figures['q3']:.2f}]{cost}"
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
