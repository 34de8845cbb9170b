"""The limiter on a real Redis: same behaviour as memory, one key per rule and client."""

from __future__ import annotations

import time

import pytest
import redis

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
from backendkit.settings import Settings

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


@pytest.fixture
def limiter(redis_url: str, redis_prefix: str) -> RateLimiter:
    """A limiter on the shared Redis, its keys under this test's prefix.

    Starts at least a second clear of a minute boundary: the windows follow Redis's clock
    (this machine's), and a fixed window that turned over between two hits of a test would
    let an extra hit through.
    """
    to_boundary = 60.0 - time.time() % 60.0
    if to_boundary < 1.0:
        time.sleep(to_boundary + 0.05)
    built = RateLimiter(redis_url, key_prefix=redis_prefix)
    yield built  # type: ignore[misc]
    built.close()


@pytest.fixture
def raw(redis_url: str) -> redis.Redis:
    """A plain redis-py client to look at what the limiter stored."""
    client = redis.Redis.from_url(redis_url)
    yield client  # type: ignore[misc]
    client.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_exactly_n_then_denied(limiter: RateLimiter, strategy: str) -> None:
    """N hits pass with falling remaining; the next is denied with a wait."""
    rule = Rule("r", "3/minute", strategy=strategy)  # type: ignore[arg-type]
    results = [limiter.hit(rule, "k") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert all(r.source == "storage" for r in results)
    assert 0 < results[-1].retry_after <= 120  # sliding: up to two windows
    assert limiter.is_shared


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cost_and_all_or_nothing(limiter: RateLimiter, strategy: str) -> None:
    """Costs take several units; a hit denied by one limit is charged to none."""
    rule = Rule("r", "5/minute;3/hour", strategy=strategy)  # type: ignore[arg-type]
    assert limiter.hit(rule, "k", cost=2).allowed
    denied = limiter.hit(rule, "k", cost=2)  # 4 > 3 per hour
    assert not denied.allowed
    assert denied.limit.window == 3600
    assert limiter.peek(rule, "k").remaining == 1
    assert limiter.hit(rule, "k", cost=1).allowed
    assert not limiter.hit(rule, "k", cost=6).allowed


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_short_windows_reset_on_the_server_clock(limiter: RateLimiter, strategy: str) -> None:
    """With a one-second window, waiting retry_after lets the key through again."""
    rule = Rule("short", "2/second", strategy=strategy)  # type: ignore[arg-type]
    while limiter.hit(rule, "k").allowed:
        pass
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    time.sleep(denied.retry_after + 0.05)
    assert limiter.hit(rule, "k").allowed


def test_peek_and_reset(limiter: RateLimiter) -> None:
    """Peeks consume nothing; reset() deletes the key's state."""
    rule = Rule("r", "1/minute")
    assert limiter.peek(rule, "k").allowed
    assert limiter.hit(rule, "k").allowed
    assert not limiter.peek(rule, "k").allowed
    assert limiter.reset(rule, "k") is True
    assert limiter.hit(rule, "k").allowed


def test_one_hash_tagged_key_per_rule_and_client(
    limiter: RateLimiter, raw: redis.Redis, redis_prefix: str
) -> None:
    """State lives in <prefix>{<rule>:<key>}:<strategy>, with a TTL of the retention."""
    limiter.hit(Rule("login", "5/minute;100/day"), "ip:203.0.113.7")
    limiter.hit(Rule("login", "5/minute", strategy="moving-window"), "ip:203.0.113.7")
    keys = sorted(k.decode() for k in raw.scan_iter(match=redis_prefix + "*"))
    assert keys == [
        f"{redis_prefix}{{login:ip:203.0.113.7}}:m",
        f"{redis_prefix}{{login:ip:203.0.113.7}}:s",
    ]
    ttl = raw.pttl(keys[1])
    assert 0 < ttl <= 2 * 86_400_000
    assert raw.type(keys[0]) == b"list"
    assert raw.type(keys[1]) == b"hash"


def test_rules_never_share_counters(limiter: RateLimiter) -> None:
    """Two rules with the same limits keep separate counters for the same key."""
    assert limiter.hit(Rule("a", "1/minute"), "k").allowed
    assert limiter.hit(Rule("b", "1/minute"), "k").allowed
    assert not limiter.hit(Rule("a", "1/minute"), "k").allowed


def test_keys_with_braces_stay_separate(limiter: RateLimiter) -> None:
    """Keys containing braces or colons neither collide nor break the key layout."""
    rule = Rule("r", "1/minute")
    assert limiter.hit(rule, "a}b").allowed
    assert limiter.hit(rule, "a").allowed
    assert limiter.hit(rule, "{x}:y").allowed
    assert not limiter.hit(rule, "a}b").allowed


def test_headers_use_the_server_clock(limiter: RateLimiter) -> None:
    """Reset is measured from Redis's TIME, so the header is exact whatever this host says."""
    result = limiter.hit(Rule("r", "5/minute", strategy="moving-window"), "k")
    assert result.reset - result.decided_at == 60.0
    assert result.headers()["RateLimit-Reset"] == "60"
    assert abs(result.decided_at - time.time()) < 60  # same machine: roughly agrees


def test_shared_connector_and_config(redis_url: str, redis_prefix: str) -> None:
    """A shared connector is used as is and left open; a RedisConfig builds its own."""
    connector = RedisConnector(redis_url)
    shared = RateLimiter(connector, key_prefix=redis_prefix)
    assert shared.connector is connector
    assert shared.hit(Rule("r", "1/minute"), "k").allowed
    shared.close()
    assert connector.ping()  # not closed by the limiter
    connector.close()
    own = RateLimiter(RedisConfig(redis_url), key_prefix=redis_prefix)
    assert not own.hit(Rule("r", "1/minute"), "k").allowed
    assert "RateLimiter(RedisConnector" in repr(own)
    own.close()


def test_from_settings_uses_redis(redis_url: str, redis_prefix: str) -> None:
    """With redis_url set, from_settings builds a Redis limiter with those timeouts."""
    settings = Settings(env="test", redis_url=redis_url, redis_command_timeout=1.5)
    limiter = RateLimiter.from_settings(settings, key_prefix=redis_prefix)
    assert limiter.connector is not None
    assert limiter.connector.config.command_timeout == 1.5
    limiter.close()
    alimiter = AsyncRateLimiter.from_settings(settings, key_prefix=redis_prefix)
    assert alimiter.is_shared


def test_sync_limiter_refuses_an_async_connector(redis_url: str) -> None:
    """The sync limiter needs a sync connector, and the other way round."""
    from backendkit.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs memory://"):
        RateLimiter(AsyncRedisConnector(redis_url))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="needs memory://"):
        AsyncRateLimiter(RedisConnector(redis_url))  # type: ignore[arg-type]


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_async_limiter_on_redis(redis_url: str, redis_prefix: str, strategy: str) -> None:
    """The async twin makes the same decisions through the same script."""
    limiter = AsyncRateLimiter(redis_url, key_prefix=redis_prefix)
    rule = Rule("r", "2/minute;3/hour", strategy=strategy)  # type: ignore[arg-type]
    results = [await limiter.hit(rule, "k") for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert (await limiter.peek(rule, "k")).remaining == 0
    assert await limiter.reset(rule, "k") is True
    assert (await limiter.hit(rule, "k", cost=2)).allowed
    assert "AsyncRateLimiter(AsyncRedisConnector" in repr(limiter)
    await limiter.aclose()


async def test_async_shared_connector_is_not_closed(redis_url: str, redis_prefix: str) -> None:
    """A shared async connector stays open after the limiter's aclose()."""
    connector = AsyncRedisConnector(redis_url)
    limiter = AsyncRateLimiter(connector, key_prefix=redis_prefix)
    assert (await limiter.hit(Rule("r", "1/minute"), "k")).allowed
    await limiter.aclose()
    assert await connector.ping()
    await connector.aclose()
