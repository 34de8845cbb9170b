"""One real round trip per test service, and the service fixtures themselves."""

from __future__ import annotations

import socket
import uuid

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from tests._services import (
    DeadPort,
    HungServer,
    RedisServerFactory,
    ServiceProbe,
    can_connect,
    host_port,
)


def test_redis_round_trip(redis_url: str, redis_prefix: str) -> None:
    """A value written to the shared Redis under the test prefix reads back."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.set(redis_prefix + "k", "v")
        assert client.get(redis_prefix + "k") == b"v"
    finally:
        client.close()


def test_redis_prefix_keys_are_deleted_after_the_test(redis_url: str) -> None:
    """The prefix cleanup deletes only that prefix's keys (never a flush)."""
    from tests._services import delete_prefixed_keys

    prefix = f"bktest:{uuid.uuid4().hex[:12]}:"
    other = f"bktest:{uuid.uuid4().hex[:12]}:"
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.set(prefix + "a", 1)
        client.set(prefix + "b", 2)
        client.set(other + "a", 3)
        delete_prefixed_keys(redis_url, prefix)
        assert client.exists(prefix + "a", prefix + "b") == 0
        assert client.get(other + "a") == b"3"
    finally:
        client.delete(other + "a")
        client.close()


def test_postgres_round_trip(postgres_url: str) -> None:
    """PostgreSQL answers a query through SQLAlchemy + psycopg."""
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1 + 1")).scalar_one() == 2
    finally:
        engine.dispose()


async def test_async_postgres_round_trip(async_postgres_url: str) -> None:
    """PostgreSQL answers a query through SQLAlchemy + asyncpg."""
    assert async_postgres_url.startswith("postgresql+asyncpg://")
    engine = create_async_engine(async_postgres_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT 1 + 1"))).scalar_one() == 2
    finally:
        await engine.dispose()


def test_mysql_round_trip(mysql_url: str) -> None:
    """MariaDB answers a query through SQLAlchemy + pymysql."""
    engine = sa.create_engine(mysql_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1 + 1")).scalar_one() == 2
    finally:
        engine.dispose()


async def test_async_mysql_round_trip(async_mysql_url: str) -> None:
    """MariaDB answers a query through SQLAlchemy + asyncmy."""
    assert async_mysql_url.startswith(("mysql+asyncmy://", "mariadb+asyncmy://"))
    engine = create_async_engine(async_mysql_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT 1 + 1"))).scalar_one() == 2
    finally:
        await engine.dispose()


def test_private_redis_server_stops_and_starts_on_the_same_port(
    redis_server_factory: RedisServerFactory,
) -> None:
    """A private redis-server answers, refuses while stopped, and answers again."""
    server = redis_server_factory()
    client = redis.Redis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        assert client.ping()
        server.stop()
        assert not server.running
        with pytest.raises(redis.ConnectionError):
            client.ping()
        server.start()
        assert server.running
        assert client.ping()
    finally:
        client.close()


def test_dead_port_refuses_connections(dead_redis: DeadPort, dead_redis_url: str) -> None:
    """Nothing listens on the dead port: a connect is refused."""
    assert dead_redis_url == dead_redis.url
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", dead_redis.port), timeout=2)


def test_hung_server_accepts_and_never_answers(hung_redis: HungServer) -> None:
    """The hung server accepts (and counts) a connection but sends nothing back."""
    assert hung_redis.accepted == 0
    with socket.create_connection(("127.0.0.1", hung_redis.port), timeout=2) as sock:
        assert hung_redis.wait_for_accepted(1) == 1
        sock.sendall(b"PING\r\n")
        sock.settimeout(0.05)
        with pytest.raises(TimeoutError):
            sock.recv(16)


def test_unreachable_service_skips_with_a_reason(
    dead_redis: DeadPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unreachable service skips the test, naming the service and the variable."""
    monkeypatch.delenv("BACKENDKIT_REQUIRE_SERVICES", raising=False)
    probe = ServiceProbe("Redis", "X_TEST_URL", dead_redis.url, 6379)
    with pytest.raises(pytest.skip.Exception, match=r"Redis is not reachable .*X_TEST_URL"):
        probe.require()


def test_unreachable_service_fails_when_services_are_required(
    dead_redis: DeadPort, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With BACKENDKIT_REQUIRE_SERVICES=1 the same situation is a failure, not a skip."""
    monkeypatch.setenv("BACKENDKIT_REQUIRE_SERVICES", "1")
    probe = ServiceProbe("Redis", "X_TEST_URL", dead_redis.url, 6379)
    with pytest.raises(pytest.fail.Exception, match="BACKENDKIT_REQUIRE_SERVICES=1"):
        probe.require()


def test_reachable_service_returns_its_url(redis_url: str) -> None:
    """The valid twin: a reachable service's URL is returned; the result is cached."""
    probe = ServiceProbe("Redis", "X_TEST_URL", redis_url, 6379)
    assert probe.require() == redis_url
    assert probe.require() == redis_url


def test_env_variable_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """BACKENDKIT_TEST_*_URL-style variables replace the default URL."""
    monkeypatch.setenv("X_TEST_URL", "redis://elsewhere:1/0")
    assert ServiceProbe("Redis", "X_TEST_URL", "redis://127.0.0.1/0", 6379).url == (
        "redis://elsewhere:1/0"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6380/0", ("127.0.0.1", 6380)),
        ("redis://:pw@cache/0", ("cache", 6379)),
        ("postgresql+psycopg://postgres@db:5433/test", ("db", 5433)),
        ("redis+sentinel://s1:26379,s2:26380/mymaster", ("s1", 26379)),
        ("redis://[::1]:7000/0", ("::1", 7000)),
        ("unix:///run/redis.sock", "/run/redis.sock"),
    ],
)
def test_host_port(url: str, expected: tuple[str, int] | str) -> None:
    """Reachability checks find the host and port (or socket path) of every URL form."""
    assert host_port(url, 6379) == expected


def test_can_connect_to_unix_socket_path_that_does_not_exist() -> None:
    """A missing unix socket is simply unreachable."""
    assert can_connect("/nonexistent/redis.sock") is False
