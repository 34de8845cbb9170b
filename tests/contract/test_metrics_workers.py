"""Each example app with two workers on Redis in multiprocess mode (gunicorn with
``examples/gunicorn_conf.py``, uvicorn with a fresh directory): a known mix spread over
both workers moves each series of one scrape by exactly its share, limiter and cache
outcomes included."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests._services import RedisServerFactory
from tests.contract._api import Api
from tests.contract._servers import APPS, RunningServer, example_server
from tests.contract.test_metrics import LOGIN, ME, Samples, moved, moved_family, scrape

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.fixture(scope="module", params=APPS)
def workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, Path]]:
    """One example, two workers, SQLite, a private redis-server, a metrics directory."""
    app = request.param
    workdir = tmp_path_factory.mktemp(f"metrics-{app}")
    directory = workdir / "prom"
    directory.mkdir()
    with contextlib.ExitStack() as stack:
        factory = RedisServerFactory(workdir)
        stack.callback(factory.close)
        redis = factory()
        extra = {
            "BACKENDKIT_DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
            "BACKENDKIT_REDIS_URL": redis.url,
            "BACKENDKIT_REDIS_KEY_PREFIX": f"bkm:{secrets.token_hex(4)}:",
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
        }
        if app != "fastapi":  # gunicorn reads its hooks from the documented config
            extra["GUNICORN_CMD_ARGS"] = "-c examples/gunicorn_conf.py"
        running = stack.enter_context(
            example_server(app, "metrics", workdir=workdir, workers=2, extra_env=extra, redis=redis)
        )
        yield running, directory


_HITS = "backendkit_cache_hits_total"
_MISSES = "backendkit_cache_misses_total"


def _cache_reads(before: Samples, after: Samples) -> float:
    return moved_family(before, after, _HITS) + moved_family(before, after, _MISSES)


def _settled(server: RunningServer, ready: Callable[[Samples], bool]) -> Samples:
    """A scrape once ``ready`` holds: each worker copies its cache counters to the files
    once a second, so they reach a scrape up to a second late (15 s at the most)."""
    deadline = time.monotonic() + 15
    samples = scrape(server)
    while not ready(samples) and time.monotonic() < deadline:
        time.sleep(0.3)
        samples = scrape(server)
    return samples


def test_two_workers_move_each_series_exactly(workers: tuple[RunningServer, Path]) -> None:
    """5 reads of /me (cached in Redis), 3 anonymous 401s, 10 failed logins then 2 refused
    by the shared limiter: one scrape adds both workers up exactly."""
    server, directory = workers
    with Api(server) as api:
        account = api.new_user()  # registered and logged in: nothing read through the cache
        before = scrape(server)
        for _ in range(5):
            assert api.get(ME, token=account.access).status_code == 200
        for _ in range(3):
            assert api.get(ME).status_code == 401
    statuses = []
    with Api(server) as guesser:
        for _ in range(12):
            body = {"email": f"nobody-{secrets.token_hex(4)}@example.com", "password": "x" * 12}
            statuses.append(guesser.post(LOGIN, json_body=body).status_code)
    assert statuses == [401] * 10 + [429] * 2
    # Both workers served and wrote their counts (a new connection per request).
    # The kernel may hand every connection to one worker: more anonymous reads until both
    # have written, counted with the mix's 401s.
    pids = {f"{pid}.db" for pid in server.worker_pids()}
    extra = 0
    with Api(server) as anonymous:
        while len(pids & {p.name.split("_")[-1] for p in directory.glob("counter_*.db")}) < 2:
            assert extra < 90, "one worker served every request"  # under the default limit
            assert anonymous.get(ME).status_code == 401
            extra += 1
    # Cache counters are copied to the files once a second by each worker.
    after = _settled(server, lambda samples: _cache_reads(before, samples) >= 5)
    # The first read loads the user into Redis; the other four find it, whichever worker
    # serves them.
    assert moved_family(before, after, _HITS) == 4
    assert moved_family(before, after, _MISSES) == 1
    total = "backendkit_http_requests_total"
    assert moved(before, after, total, method="GET", route=ME, status="200") == 5
    assert moved(before, after, total, method="GET", route=ME, status="401") == 3 + extra
    assert moved(before, after, total, method="POST", route=LOGIN, status="401") == 10
    assert moved(before, after, total, method="POST", route=LOGIN, status="429") == 2
    assert moved_family(before, after, total) == 20 + extra
    errors = "backendkit_http_errors_total"
    assert moved(before, after, errors, route=LOGIN, code="RATE_LIMITED") == 2
    decisions = "backendkit_ratelimit_decisions_total"
    denied = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == decisions and ("decision", "denied") in key[1]
    )
    assert denied == 2
    assert after[("backendkit_http_requests_in_progress", ())] == 0
