"""The rotation contract on real Redis (standalone and cluster), sync and async."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.unit.auth._rotation_contract import Driver, MakeDriver, RotationContract, key

from backendkit.auth import RedisTokenStore, TokenService
from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.testing import FakeClock

BACKENDS = [
    pytest.param(("standalone", "sync"), marks=pytest.mark.redis, id="redis-sync"),
    pytest.param(("standalone", "async"), marks=pytest.mark.redis, id="redis-async"),
    pytest.param(
        ("cluster", "sync"), marks=[pytest.mark.redis, pytest.mark.slow], id="cluster-sync"
    ),
    pytest.param(
        ("cluster", "async"), marks=[pytest.mark.redis, pytest.mark.slow], id="cluster-async"
    ),
]


@pytest.fixture(params=BACKENDS)
async def make(request: pytest.FixtureRequest, fake_clock: FakeClock) -> AsyncIterator[MakeDriver]:
    topology, mode = request.param
    if topology == "standalone":
        url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")
    else:
        url = request.getfixturevalue("redis_cluster_url")
        prefix = f"bktest:{uuid.uuid4().hex[:12]}:"
    sync = RedisConnector(url, clock=fake_clock)
    asynchronous = AsyncRedisConnector(url, clock=fake_clock)
    store = RedisTokenStore(sync, async_redis=asynchronous, key_prefix=prefix)

    def _make(**options: Any) -> Driver:
        service = TokenService(key(), store=store, clock=fake_clock, **options)
        return Driver(service, fake_clock, asynchronous=mode == "async")

    yield _make
    sync.close()
    await asynchronous.aclose()


class TestRotationOnRedis(RotationContract):
    """Every rotation guarantee, shared by every worker through Redis."""
