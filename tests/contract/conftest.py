"""Fixtures of the black-box contract suite: each example app under its real server.

``server`` is session-scoped and parametrized over the three apps, each with embedded
defaults (SQLite file, in-memory limiter/cache/token store, one worker), with services
(its own PostgreSQL database, a private redis-server with a key prefix, four workers) and
on MariaDB (its own database on a ``mysql://`` URL, a private redis-server, two workers).
pytest groups the tests by parameter, so one server runs at a time; each starts once per
session and is killed with its process group at the end, when its log is also searched
for every secret the tests sent or received.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import pytest
from tests._services import (
    DEFAULT_MYSQL_URL,
    DEFAULT_POSTGRES_URL,
    RedisServerFactory,
    ServiceProbe,
)
from tests.contract._api import Api
from tests.contract._servers import (
    APPS,
    RunningServer,
    example_server,
    mariadb_database,
    postgres_database,
)

_POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)
_MYSQL = ServiceProbe("MariaDB/MySQL", "BACKENDKIT_TEST_MYSQL_URL", DEFAULT_MYSQL_URL, 3306)

_SERVICE_MARKS = {
    "services": [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow],
    "mariadb": [pytest.mark.mysql, pytest.mark.redis, pytest.mark.slow],
}
SERVER_PARAMS = [pytest.param((app, "embedded"), id=f"{app}-embedded") for app in APPS] + [
    pytest.param((app, backend), id=f"{app}-{backend}", marks=marks)
    for backend, marks in _SERVICE_MARKS.items()
    for app in APPS
]


@pytest.fixture(scope="session", params=SERVER_PARAMS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One example app under its real server (see the module docstring)."""
    app, backend = request.param
    workdir = tmp_path_factory.mktemp(f"{app}-{backend}")
    with contextlib.ExitStack() as stack:
        redis = None
        if backend == "embedded":
            workers = 1
            extra = {"BACKENDKIT_DATABASE_URL": f"sqlite:///{workdir / 'app.db'}"}
        else:
            tag = secrets.token_hex(4)
            if backend == "services":
                workers = 4
                admin_url = _POSTGRES.require()
                database = stack.enter_context(postgres_database(admin_url, f"bkc_{app}_{tag}"))
            else:  # The cross-worker tests run on the PostgreSQL leg; two workers suffice.
                workers = 2
                admin_url = _MYSQL.require()
                database = stack.enter_context(mariadb_database(admin_url, f"bkc_{app}_{tag}"))
            factory = RedisServerFactory(workdir)
            stack.callback(factory.close)
            redis = factory()
            extra = {
                "BACKENDKIT_DATABASE_URL": database,
                "BACKENDKIT_REDIS_URL": redis.url,
                "BACKENDKIT_REDIS_KEY_PREFIX": f"bkc:{tag}:",
            }
        yield stack.enter_context(
            example_server(
                app, backend, workdir=workdir, workers=workers, extra_env=extra, redis=redis
            )
        )


@pytest.fixture
def api(server: RunningServer) -> Iterator[Api]:
    """A checking client with a client address of its own (``X-Forwarded-For``)."""
    with Api(server) as client:
        yield client


def pytest_configure(config: pytest.Config) -> None:
    """Register ``contract_only``."""
    config.addinivalue_line(
        "markers",
        "contract_only(app=None, backend=None): run a contract test only against this app "
        "and/or backend, or a tuple of them (the other server parameters are deselected, "
        "not skipped)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the server parameters a ``contract_only`` test does not apply to."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("contract_only")
        callspec = getattr(item, "callspec", None)
        if marker is not None and callspec is not None and "server" in callspec.params:
            app, backend = callspec.params["server"]
            wanted_app, wanted_backend = marker.kwargs.get("app"), marker.kwargs.get("backend")
            if not _wanted(wanted_app, app) or not _wanted(wanted_backend, backend):
                dropped.append(item)
                continue
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _wanted(wanted: str | tuple[str, ...] | None, value: str) -> bool:
    return wanted is None or value in ((wanted,) if isinstance(wanted, str) else wanted)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the hostile-input fuzz's histogram of statuses and error codes, per app."""
    from tests.contract._fuzz_stats import STATS

    if not STATS:
        return
    terminalreporter.section("hostile-input fuzz: statuses and error codes")
    for name, stats in sorted(STATS.items()):
        for line in stats.lines(name):
            terminalreporter.write_line(line)
