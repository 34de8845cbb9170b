"""What request metrics cost in a whole app, backendkit's against the usual exporters.

Each contender is a pair of apps that differ only by the metrics: backendkit (a kit
without, then with ``Metrics``, in FastAPI, Flask and Django), prometheus-fastapi-instrumentator
and starlette-exporter (a bare FastAPI app without, then with), prometheus-flask-exporter
(a bare Flask app without, then with), django-prometheus (bare Django without, then with
its two middlewares), and OpenTelemetry's instrumentations recording into the SDK (a
``TracerProvider`` batching spans to an exporter that drops them, a ``MeterProvider``
aggregating in memory): opentelemetry-instrumentation-fastapi and -django, and for Flask
the WSGI middleware that FlaskInstrumentor wraps around an app (the Flask package has no
release for the pinned semantic conventions). The apps serve one route,
``GET /api/items/{id}``, and are called in-process (an ASGI call, or a WSGI call with a
fresh environ): no network, no server, so the CPU measured is the framework's and the
metrics'. The Django adapter reads its kit from the settings, one per process: its two
kits take turns, switched between rounds (never inside one). Each pair runs in its own fresh
interpreter (every exporter uses prometheus-client's global registry), its two apps in
alternating rounds; a round times ``--requests`` requests by the process's CPU time. A
contender's cost is its instrumented median minus its plain median, in microseconds per
request; every response is checked (200, the right body) before a round counts.

backendkit also runs in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set to a fresh
directory, as under gunicorn: every value in an mmap'd file), reported under
``multiprocess/<framework>/backendkit`` so the page's per-framework tables keep one
backendkit row.

Runs in the benchmark environment, where the exporters are installed (pinned in
``benchmarks/requirements-peers.txt``)::

    .venv-bench/bin/python benchmarks/bench_metrics_peers.py [--quick] [--json out.json]
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

_SETUP_ASGI = r"""
import asyncio, json, sys, time
sys.path.insert(0, {src!r})
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from backendkit.logging import configure_logging
from backendkit.settings import Settings

settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)

def bare():
    app = FastAPI()
    @app.get("/api/items/{{item_id}}")
    async def item(item_id: int):
        return {{"id": item_id}}
    return app

def backendkit(metrics):
    from backendkit.adapters.fastapi import install
    from backendkit.metrics import Metrics
    from backendkit.web import WebKit
    app = bare()
    chosen = Metrics(CollectorRegistry()) if metrics else None
    install(app, WebKit.from_settings(settings, metrics=chosen))
    return app

def instrumentator(metrics):
    app = bare()
    if metrics:
        from prometheus_fastapi_instrumentator import Instrumentator
        Instrumentator(registry=CollectorRegistry()).instrument(app)
    return app

def starlette_exporter(metrics):
    app = bare()
    if metrics:
        from starlette_exporter import PrometheusMiddleware
        app.add_middleware(PrometheusMiddleware)
    return app

{otel_providers}
def otel(metrics):
    app = bare()
    if metrics:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        tracer, meter = otel_providers()
        FastAPIInstrumentor.instrument_app(app, tracer_provider=tracer, meter_provider=meter)
    return app

build = {{"backendkit": backendkit, "instrumentator": instrumentator,
         "starlette_exporter": starlette_exporter, "otel": otel}}[{contender!r}]
apps = {{"plain": build(False), "metrics": build(True)}}

async def call(app, index):
    scope = {{"type": "http", "asgi": {{"version": "3.0"}}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": f"/api/items/{{index % 100}}",
             "raw_path": b"", "root_path": "", "query_string": b"", "headers": [],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}}
    sent = []
    async def receive():
        return {{"type": "http.request", "body": b"", "more_body": False}}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    return sent

async def lifespan(app):
    # Starlette builds the middleware stack on the first call; a lifespan startup is that call.
    messages = [{{"type": "lifespan.startup"}}]
    async def receive():
        return messages.pop() if messages else await asyncio.sleep(3600)
    async def send(message):
        pass
    scope = {{"type": "lifespan", "asgi": {{"version": "3.0"}}}}
    task = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.sleep(0.05)
    return task

async def main():
    tasks = [await lifespan(app) for app in apps.values()]
    for name, app in apps.items():
        sent = await call(app, 7)
        assert sent[0]["status"] == 200, (name, sent)
        assert json.loads(sent[1]["body"]) == {{"id": 7}}, (name, sent)
        for index in range(2000):
            await call(app, index)
    figures = {{name: [] for name in apps}}
    for _ in range({rounds}):
        for name, app in apps.items():
            started = time.process_time()
            for index in range({requests}):
                await call(app, index)
            figures[name].append((time.process_time() - started) / {requests} * 1e6)
    for task in tasks:
        task.cancel()
    print(json.dumps(figures))

asyncio.run(main())
"""

_SETUP_WSGI = r"""
import io, json, sys, time
sys.path.insert(0, {src!r})
from flask import Flask
from prometheus_client import CollectorRegistry
from backendkit.logging import configure_logging
from backendkit.settings import Settings

settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)
{otel_providers}
def bare(name):
    app = Flask(name)
    @app.get("/api/items/<int:item_id>")
    def item(item_id):
        return {{"id": item_id}}
    return app

def backendkit(metrics):
    from backendkit.adapters.flask import BackendKit
    from backendkit.metrics import Metrics
    from backendkit.web import WebKit
    app = bare(f"bk{{metrics}}")
    kit = WebKit.from_settings(settings, metrics=Metrics(CollectorRegistry()) if metrics else None)
    BackendKit(app, kit=kit)
    return app

def flask_exporter(metrics):
    app = bare(f"fe{{metrics}}")
    if metrics:
        from prometheus_flask_exporter import PrometheusMetrics
        PrometheusMetrics(app, registry=CollectorRegistry())
    return app

def otel(metrics):
    app = bare(f"ot{{metrics}}")
    if metrics:
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
        tracer, meter = otel_providers()
        app.wsgi_app = OpenTelemetryMiddleware(
            app.wsgi_app, tracer_provider=tracer, meter_provider=meter
        )
    return app

build = {{"backendkit": backendkit, "flask_exporter": flask_exporter, "otel": otel}}[{contender!r}]
apps = {{"plain": build(False), "metrics": build(True)}}
{wsgi_call}
{rounds_wsgi}"""

# Times alternating rounds of ``apps`` (WSGI); ``before(name)``, when defined, readies an
# app before its round (the Django adapter's kit is switched there), and ``after()`` checks
# what was recorded.
_ROUNDS_WSGI = r"""
prepare = globals().get("before") or (lambda name: None)
for name, app in apps.items():
    prepare(name)
    status, data = call(app, 7)
    assert status.startswith("200"), (name, status, data)
    assert json.loads(data) == {{"id": 7}}, (name, data)
    for index in range(2000):
        call(app, index)
figures = {{name: [] for name in apps}}
for _ in range({rounds}):
    for name, app in apps.items():
        prepare(name)
        call(app, 0)
        started = time.process_time()
        for index in range({requests}):
            call(app, index)
        figures[name].append((time.process_time() - started) / {requests} * 1e6)
(globals().get("after") or (lambda: None))()
print(json.dumps(figures))
"""

_SETUP_DJANGO = r"""
import io, json, sys, time
sys.path.insert(0, {src!r})
import django
from django.conf import settings as django_settings
from django.http import JsonResponse
from django.urls import path
from prometheus_client import CollectorRegistry
from backendkit.logging import configure_logging
from backendkit.settings import Settings

settings = Settings(env="test", secret_key="k" * 32, log_level="WARNING")
configure_logging(settings)
{otel_providers}
def item(request, item_id):
    return JsonResponse({{"id": item_id}})

urlpatterns = [path("api/items/<int:item_id>", item)]
sys.modules["bench_urls"] = type(sys)("bench_urls")
sys.modules["bench_urls"].urlpatterns = urlpatterns
contender = {contender!r}
plain_middleware = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
django_settings.configure(
    DEBUG=False, SECRET_KEY="bench-" + "x" * 40, ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF="bench_urls", MIDDLEWARE=list(plain_middleware), DATABASES={{}}, USE_TZ=True,
    INSTALLED_APPS=["django_prometheus"] if contender == "django_prometheus" else [],
    LOGGING_CONFIG=None,
)
django.setup()
from django.core.handlers.wsgi import WSGIHandler

def handler(middleware):
    django_settings.MIDDLEWARE = middleware
    return WSGIHandler()

before = None
if contender == "backendkit":
    from backendkit.adapters.django import reset_config
    from backendkit.metrics import Metrics
    from backendkit.web import WebKit
    registry = CollectorRegistry()
    kits = {{"plain": WebKit.from_settings(settings),
            "metrics": WebKit.from_settings(settings, metrics=Metrics(registry))}}

    def before(name):
        django_settings.BACKENDKIT = {{"KIT": kits[name]}}
        reset_config()

    def after():
        # The metrics kit served every one of its rounds' requests, the plain one none.
        counted = sum(
            sample.value for family in registry.collect()
            if family.name == "backendkit_http_requests" for sample in family.samples
            if sample.name.endswith("_total")
        )
        assert counted == 1 + 2000 + {rounds} * ({requests} + 1), counted

    before("plain")
    chain = handler(["backendkit.adapters.django.BackendKitMiddleware", *plain_middleware])
    apps = {{"plain": chain, "metrics": chain}}
elif contender == "django_prometheus":
    apps = {{"plain": handler(list(plain_middleware)), "metrics": handler([
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        *plain_middleware,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ])}}
else:
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    plain = handler(list(plain_middleware))
    tracer, meter = otel_providers()
    # instrument() puts its middleware first in settings.MIDDLEWARE: the next chain has it.
    DjangoInstrumentor().instrument(tracer_provider=tracer, meter_provider=meter)
    apps = {{"plain": plain, "metrics": handler(list(django_settings.MIDDLEWARE))}}
{wsgi_call}
{rounds_wsgi}"""

# One WSGI call with a fresh environ: the status line and the body.
_WSGI_CALL = r"""
base = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False}

def call(app, index):
    environ = dict(base, PATH_INFO=f"/api/items/{index % 100}")
    environ["wsgi.input"] = io.BytesIO(b"")
    status = []
    body = app(environ, lambda s, h, e=None: status.append(s))
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0], data
"""

# The OpenTelemetry SDK as an app that exports would set it up, minus the network.
_OTEL_PROVIDERS = r"""
def otel_providers():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    tracer = TracerProvider()
    tracer.add_span_processor(BatchSpanProcessor(Drop()))
    return tracer, MeterProvider(metric_readers=[InMemoryMetricReader()])
"""

CONTENDERS = (
    ("fastapi", "backendkit", _SETUP_ASGI),
    ("fastapi", "instrumentator", _SETUP_ASGI),
    ("fastapi", "starlette_exporter", _SETUP_ASGI),
    ("fastapi", "otel", _SETUP_ASGI),
    ("flask", "backendkit", _SETUP_WSGI),
    ("flask", "flask_exporter", _SETUP_WSGI),
    ("flask", "otel", _SETUP_WSGI),
    ("django", "backendkit", _SETUP_DJANGO),
    ("django", "django_prometheus", _SETUP_DJANGO),
    ("django", "otel", _SETUP_DJANGO),
)


# backendkit again with every value in files, as gunicorn's workers keep them.
MULTIPROCESS = (
    ("fastapi", _SETUP_ASGI),
    ("flask", _SETUP_WSGI),
    ("django", _SETUP_DJANGO),
)


def _pair(
    template: str, contender: str, rounds: int, requests: int, directory: str | None = None
) -> dict[str, list[float]]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if directory is not None:
        env["PROMETHEUS_MULTIPROC_DIR"] = directory
    code = template.format(
        src=str(ROOT / "src"),
        contender=contender,
        rounds=rounds,
        requests=requests,
        otel_providers=_OTEL_PROVIDERS,
        wsgi_call=_WSGI_CALL,
        rounds_wsgi=_ROUNDS_WSGI.format(rounds=rounds, requests=requests),
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _entry(figures: dict[str, list[float]]) -> dict[str, Any]:
    plain, metrics = _median(figures["plain"]), _median(figures["metrics"])
    return {
        "plain_us": plain,
        "metrics_us": metrics,
        "cost_us": round(metrics - plain, 3),
        "rounds": figures,
    }


def run(rounds: int, requests: int, only: str = "") -> dict[str, Any]:
    """Every contender's plain and instrumented medians and the metrics' cost (``only``:
    the contenders whose name contains it)."""
    results: dict[str, Any] = {"rounds": rounds, "requests_per_round": requests}
    for framework, contender, template in CONTENDERS:
        if only in f"{framework}/{contender}":
            results[f"{framework}/{contender}"] = _entry(
                _pair(template, contender, rounds, requests)
            )
    for framework, template in MULTIPROCESS:
        name = f"multiprocess/{framework}/backendkit"
        if only in name:
            with tempfile.TemporaryDirectory(prefix="bk-bench-peers-") as directory:
                figures = _pair(template, "backendkit", rounds, requests, directory)
            results[name] = _entry(figures)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of 2,000 requests")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--only", default="", help="contenders whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rounds, requests = (3, 2_000) if args.quick else (args.rounds, args.requests)
    results = run(rounds, requests, args.only)
    print(f"{requests} requests per round, {rounds} rounds: CPU us per request (medians)")
    for name, figures in results.items():
        if isinstance(figures, dict):
            print(
                f"  {name:<34} plain {figures['plain_us']:8.2f}   with metrics "
                f"{figures['metrics_us']:8.2f}   cost {figures['cost_us']:7.2f}"
            )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
