"""The rotation contract on real Redis (standalone and cluster), sync and async."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.unit.auth._rotation_contract import Driver, MakeDriver, RotationContract, key

from backendkit.auth import RedisTokenStore, TokenService
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
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
    # This suite checks rotation, not outages (tests/integration/redis does): eight
    # overlapping connects on a loaded CI machine once took longer than the production
    # default of 0.25 s, and the breaker then answered one of them with a 503.
    config = RedisConfig(url, connect_timeout=2.0, command_timeout=2.0)
    sync = RedisConnector(config, clock=fake_clock)
    asynchronous = AsyncRedisConnector(config, clock=fake_clock)
    store = RedisTokenStore(sync, async_redis=asynchronous, key_prefix=prefix)

    def _make(**options: Any) -> Driver:
        service = TokenService(key(), store=store, clock=fake_clock, **options)
        return Driver(service, fake_clock, asynchronous=mode == "async")

    yield _make
    sync.close()
    await asynchronous.aclose()


class TestRotationOnRedis(RotationContract):
    """Every rotation guarantee, shared by every worker through Redis."""
