"""Shared fixtures: real services, a private redis-server, dead/hung sockets, a fake clock.

Service URLs come from ``BACKENDKIT_TEST_REDIS_URL``, ``BACKENDKIT_TEST_POSTGRES_URL`` and
``BACKENDKIT_TEST_MYSQL_URL`` (defaults: this machine's 127.0.0.1 services). A test whose
service is unreachable is skipped with a reason, or fails when
``BACKENDKIT_REQUIRE_SERVICES=1``. Tests using a service fixture are marked automatically
(``redis``, ``postgres``, ``mysql``), so ``-m "not redis"`` deselects them.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from tests._services import (
    DEFAULT_MYSQL_URL,
    DEFAULT_POSTGRES_URL,
    DEFAULT_REDIS_URL,
    DeadPort,
    HungServer,
    RedisServerFactory,
    ServiceProbe,
    delete_prefixed_keys,
    start_sentinel,
    start_single_node_cluster,
)

from backendkit.logging import clear_request_context
from backendkit.testing import FakeClock

# A deadline is a hidden wall-clock assertion; slow properties bound max_examples instead.
hypothesis_settings.register_profile("backendkit", deadline=None, print_blob=True)
hypothesis_settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "backendkit"))

_REDIS = ServiceProbe("Redis", "BACKENDKIT_TEST_REDIS_URL", DEFAULT_REDIS_URL, 6379)
_POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)
_MYSQL = ServiceProbe("MariaDB/MySQL", "BACKENDKIT_TEST_MYSQL_URL", DEFAULT_MYSQL_URL, 3306)

_AUTO_MARKERS = {
    "redis_url": "redis",
    "redis_prefix": "redis",
    "postgres_url": "postgres",
    "async_postgres_url": "postgres",
    "mysql_url": "mysql",
    "async_mysql_url": "mysql",
    "redis_server_factory": "slow",
    "redis_cluster_url": "slow",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the services they use, so ``-m`` can select or skip them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _AUTO_MARKERS.items():
            if fixture in names:
                item.add_marker(marker)


@pytest.fixture
def redis_url() -> str:
    """URL of the shared real Redis (skips, or fails under REQUIRE_SERVICES, if down).

    Shared: never FLUSHDB/FLUSHALL; put every key under ``redis_prefix``.
    """
    return _REDIS.require()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix for this test (``bktest:<hex>:``); its keys are deleted after."""
    prefix = f"bktest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    delete_prefixed_keys(redis_url, prefix)


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[RedisServerFactory]:
    """Call it to start a private ``redis-server`` on a free port.

    The handle has ``.url``, ``.port``, ``.running``, ``.stop()`` (kill, port closed) and
    ``.start()`` (same port, waits for PING). Every server is killed at teardown.
    """
    factory = RedisServerFactory(tmp_path)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis+cluster://`` URL of a private one-node Redis Cluster (all 16384 slots).

    Started once per session (a cluster node needs ~2 s before it reports ``ok``) and
    shared: use unique keys. Killed at the end of the session.
    """
    factory = RedisServerFactory(tmp_path_factory.mktemp("redis-cluster"))
    try:
        node = start_single_node_cluster(factory)
        yield f"redis+cluster://127.0.0.1:{node.port}"
    finally:
        factory.close()


@pytest.fixture
def redis_sentinel_url(redis_server_factory: RedisServerFactory) -> str:
    """``redis+sentinel://`` URL of a private master + sentinel (service ``mymaster``, db 0)."""
    sentinel = start_sentinel(redis_server_factory)
    return f"redis+sentinel://127.0.0.1:{sentinel.port}/mymaster/0"


@pytest.fixture
def dead_redis() -> Iterator[DeadPort]:
    """A reserved 127.0.0.1 port on which every connection is refused."""
    dead = DeadPort()
    try:
        yield dead
    finally:
        dead.close()


@pytest.fixture
def dead_redis_url(dead_redis: DeadPort) -> str:
    """A ``redis://`` URL where nothing listens (connections are refused)."""
    return dead_redis.url


@pytest.fixture
def hung_redis() -> Iterator[HungServer]:
    """A socket that accepts and never answers; ``.accepted`` counts connections."""
    server = HungServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def hung_redis_url(hung_redis: HungServer) -> str:
    """A ``redis://`` URL of a server that accepts connections and never answers."""
    return hung_redis.url


@pytest.fixture(params=["refused", "hung"])
def down_redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis that is down, both ways: a refused port, then a server that never answers."""
    name = "dead_redis_url" if request.param == "refused" else "hung_redis_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def postgres_url() -> str:
    """SQLAlchemy URL of the real PostgreSQL (psycopg driver)."""
    return _POSTGRES.require()


@pytest.fixture
def async_postgres_url(postgres_url: str) -> str:
    """The same PostgreSQL with the asyncpg driver (``postgresql+asyncpg://...``)."""
    scheme, sep, rest = postgres_url.partition("://")
    return "postgresql+asyncpg" + sep + rest if scheme.startswith("postgres") else postgres_url


@pytest.fixture
def mysql_url() -> str:
    """SQLAlchemy URL of the real MariaDB/MySQL (pymysql driver)."""
    return _MYSQL.require()


@pytest.fixture
def async_mysql_url(mysql_url: str) -> str:
    """The same MariaDB/MySQL with the asyncmy driver (``mysql+asyncmy://...``)."""
    scheme, sep, rest = mysql_url.partition("://")
    return scheme.partition("+")[0] + "+asyncmy" + sep + rest


@pytest.fixture
def fake_clock() -> FakeClock:
    """A [`FakeClock`][backendkit.testing.FakeClock]: time moves only when the test says."""
    return FakeClock()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that reconfigure logging: restore structlog, its contextvars, the root logger."""
    old_config = structlog.get_config()
    root = logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    clear_request_context()
    yield
    clear_request_context()
    structlog.contextvars.clear_contextvars()
    structlog.configure(**old_config)
    root.handlers[:] = old_handlers
    root.setLevel(old_level)
