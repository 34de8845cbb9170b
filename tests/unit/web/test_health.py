"""Health checks against real engines and Redis, dead and hung dependencies, and timeouts."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.web import HealthReport, acheck_health, check_health, health_response


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # free any probe thread a timeout left waiting


def test_sqlite_engine_and_callables() -> None:
    """A reachable engine and a truthy callable are ok."""
    engine = create_engine("sqlite://", poolclass=NullPool)  # probes run in a thread
    report = check_health(database=engine, checks={"queue": lambda: True})
    assert report.checks == {"database": "ok", "queue": "ok"}
    assert (report.healthy, report.status) == (True, 200)
    engine.dispose()


def test_failing_and_false_probes_are_unavailable() -> None:
    """A probe that raises or returns False is unavailable."""

    def broken() -> bool:
        raise OSError("refused")

    report = check_health(database=broken, redis=lambda: False)
    assert report.checks == {"database": "unavailable", "redis": "unavailable"}
    assert report.status == 503


def test_sync_probe_timeout(release: threading.Event) -> None:
    """A probe that never answers is a timeout, and check_health returns regardless."""
    report = check_health(redis=release.wait, timeout=0.05)
    assert report.checks == {"redis": "timeout"}


def test_async_probe_in_sync_check_is_refused() -> None:
    """An async probe cannot run in the sync twin."""

    async def probe() -> bool:
        return True

    with pytest.raises(TypeError, match="acheck_health"):
        check_health(redis=probe)


def test_unprobeable_target_is_refused() -> None:
    """An object that is neither engine, connector nor callable is a TypeError."""
    with pytest.raises(TypeError, match="cannot probe"):
        check_health(database=42)


def test_real_redis(redis_url: str) -> None:
    """A reachable Redis is ok through the shared connector."""
    connector = RedisConnector(redis_url)
    try:
        assert check_health(redis=connector).checks == {"redis": "ok"}
    finally:
        connector.close()


def test_dead_and_hung_redis(dead_redis_url: str, hung_redis_url: str) -> None:
    """A refused port and a server that never answers are both reported down."""
    dead, hung = RedisConnector(dead_redis_url), RedisConnector(hung_redis_url)
    try:
        report = check_health(checks={"dead": dead, "hung": hung}, timeout=2.0)
        assert report.checks == {"dead": "unavailable", "hung": "unavailable"}
    finally:
        dead.close()
        hung.close()


async def test_async_engines_and_connectors(redis_url: str, dead_redis_url: str) -> None:
    """Async engines, async connectors and sync engines (in a thread) are all probed."""
    async_engine = create_async_engine("sqlite+aiosqlite://")
    # NullPool: the probe runs in a worker thread, and an in-memory SQLite connection kept
    # per thread could not be closed from this one at dispose().
    sync_engine = create_engine("sqlite://", poolclass=NullPool)
    up, down = AsyncRedisConnector(redis_url), AsyncRedisConnector(dead_redis_url)
    try:
        report = await acheck_health(
            database=async_engine,
            redis=up,
            checks={"legacy": sync_engine, "cache": down, "plain": lambda: True},
        )
        assert report.checks == {
            "database": "ok",
            "redis": "ok",
            "legacy": "ok",
            "cache": "unavailable",
            "plain": "ok",
        }
    finally:
        await up.aclose()
        await down.aclose()
        await async_engine.dispose()
        sync_engine.dispose()


async def test_async_timeouts_and_awaitables() -> None:
    """A hung coroutine is a timeout; a sync callable returning an awaitable is awaited."""

    async def hung() -> bool:
        await asyncio.Event().wait()
        return True

    async def fine() -> bool:
        return True

    class AsyncProbe:
        async def __call__(self) -> bool:
            return False

    report = await acheck_health(
        checks={"hung": hung, "wrapped": lambda: fine(), "object": AsyncProbe()}, timeout=0.05
    )
    assert report.checks == {"hung": "timeout", "wrapped": "ok", "object": "unavailable"}


def test_health_response_bodies() -> None:
    """Healthy is a 200 success envelope; unhealthy a 503 naming each failed check."""
    ok = health_response(HealthReport({"database": "ok"}), request_id="r1")
    assert ok.status == 200
    assert json.loads(ok.body)["data"] == {"status": "ok", "checks": {"database": "ok"}}
    down = health_response(HealthReport({"a": "ok", "b": "timeout"}), request_id="r2")
    assert down.status == 503
    error = json.loads(down.body)["error"]
    assert (error["code"], error["requestId"]) == ("SERVICE_UNAVAILABLE", "r2")
    assert error["details"] == [{"field": "b", "message": "timeout"}]
