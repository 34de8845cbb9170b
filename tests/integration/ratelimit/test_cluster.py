"""The same single script runs on Redis Cluster: one hash-tagged key per call."""

from __future__ import annotations

import pytest
from tests.integration.ratelimit._cluster import LocalCluster

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule

pytestmark = pytest.mark.slow


def test_limits_hold_on_a_three_node_cluster(redis_cluster: LocalCluster) -> None:
    """Keys spread over every node; each one gets exactly its limit."""
    limiter = RateLimiter(redis_cluster.url, key_prefix="rl:")
    assert limiter.connector is not None
    assert limiter.connector.is_cluster
    # Windows of a day and a month: the hits of one key never straddle a window boundary
    # (a minute window did, now and then, and let a fourth hit through).
    rule = Rule("api", "3/day;5/month")
    keys = [f"ip:198.51.100.{i}" for i in range(30)]
    for key in keys:
        assert [limiter.hit(rule, key).allowed for _ in range(4)] == [True, True, True, False]
    # The keys really landed on all three nodes (this private cluster holds nothing else).
    for port in redis_cluster.ports:
        node = redis_cluster.client(port)
        assert node.dbsize() > 0
        node.close()
    assert limiter.reset(rule, keys[0]) is True
    assert limiter.hit(rule, keys[0]).allowed
    limiter.close()


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
async def test_async_on_a_cluster(redis_cluster: LocalCluster, strategy: str) -> None:
    """The async limiter runs the script on the cluster too."""
    limiter = AsyncRateLimiter(redis_cluster.url, key_prefix="rl:")
    # A day's window: the three hits of a key never straddle a window boundary.
    rule = Rule(f"api-{strategy}", "2/day", strategy=strategy)  # type: ignore[arg-type]
    for i in range(10):
        allowed = [(await limiter.hit(rule, f"user:{i}")).allowed for _ in range(3)]
        assert allowed == [True, True, False]
    await limiter.aclose()
