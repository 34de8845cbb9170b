"""Storage failures: the policy decides, nothing raises, nothing is retried.

Real failures only: a port where nothing listens, a socket that accepts and never
answers, a private redis-server that the test stops and restarts, and a proxy that
delays the real server's reply past the command timeout.
"""

from __future__ import annotations

import time

import pytest
import redis
from tests._services import HungServer, RedisServerFactory
from tests.integration.ratelimit._proxy import CountingProxy

from backendkit.ratelimit import AsyncRateLimiter, FailurePolicy, RateLimiter, Rule
from backendkit.ratelimit._redis import SCRIPT, storage_key
from backendkit.redis import BreakerState, RedisConfig
from backendkit.testing import FakeClock, capture_logs

RULE = Rule("fail", "2/minute")


@pytest.mark.parametrize(
    ("policy", "allowed", "source"),
    [
        ("fail_open", [True, True, True], "policy"),
        ("fail_closed", [False, False, False], "policy"),
        ("local_fallback", [True, True, False], "fallback"),
    ],
)
def test_dead_redis_is_decided_by_the_policy(
    dead_redis_url: str, policy: FailurePolicy, allowed: list[bool], source: str
) -> None:
    """Connection refused: each policy's decision, never an exception."""
    limiter = RateLimiter(dead_redis_url, failure_policy=policy, clock=FakeClock())
    results = [limiter.hit(RULE, "k") for _ in range(3)]
    assert [r.allowed for r in results] == allowed
    assert {r.source for r in results} == {source}
    assert all(r.degraded for r in results)
    assert limiter.connector is not None
    assert limiter.connector.breaker.state is BreakerState.OPEN
    assert limiter.peek(RULE, "k").source == source
    assert limiter.reset(RULE, "k") is False  # reported, not raised
    limiter.close()


def test_fail_open_and_fail_closed_headers(dead_redis_url: str) -> None:
    """fail_open sends no quota headers; fail_closed sends Retry-After = breaker cooldown."""
    opened = RateLimiter(dead_redis_url, failure_policy="fail_open")
    assert opened.hit(RULE, "k").headers() == {}
    closed = RateLimiter(dead_redis_url, failure_policy="fail_closed")
    denied = closed.hit(RULE, "k")
    assert denied.retry_after == 5.0
    assert denied.headers() == {"Retry-After": "5"}
    custom = RateLimiter(dead_redis_url, failure_policy="fail_closed", failure_retry_after=30)
    assert custom.hit(RULE, "k").headers() == {"Retry-After": "30"}


def test_local_fallback_headers_are_real_counts(dead_redis_url: str) -> None:
    """The fallback counts locally, so its headers are honest about the local counter."""
    limiter = RateLimiter(dead_redis_url, failure_policy="local_fallback", clock=FakeClock())
    assert limiter.hit(RULE, "k").headers()["RateLimit-Remaining"] == "1"


def test_degraded_decisions_are_logged_once_per_interval(dead_redis_url: str) -> None:
    """One ratelimit_degraded warning for a burst of degraded decisions."""
    clock = FakeClock()
    limiter = RateLimiter(dead_redis_url, clock=clock)
    with capture_logs() as logs:
        for _ in range(5):
            limiter.hit(RULE, "k")
        clock.advance(31)
        limiter.hit(RULE, "k")
    degraded = [e for e in logs if e["event"] == "ratelimit_degraded"]
    assert len(degraded) == 2
    assert degraded[0]["policy"] == "fail_open"
    assert degraded[0]["rule"] == "fail"
    assert degraded[1]["suppressed"] == 4


def _hung_limiter(url: str, clock: FakeClock, policy: FailurePolicy) -> RateLimiter:
    config = RedisConfig(url, connect_timeout=0.25, command_timeout=0.25, breaker_cooldown=5.0)
    return RateLimiter(config, failure_policy=policy, clock=clock)


def test_hung_redis_decides_on_timeout_then_without_connecting(
    hung_redis: HungServer, hung_redis_url: str
) -> None:
    """A hung Redis costs one command timeout; while the breaker is open, no connection."""
    clock = FakeClock()
    limiter = _hung_limiter(hung_redis_url, clock, "fail_closed")
    with capture_logs() as logs:
        first = limiter.hit(RULE, "k")
    assert not first.allowed
    assert first.source == "policy"
    outage = [e for e in logs if e["event"] == "redis_unavailable"]
    assert outage
    assert outage[0]["error"] == "TimeoutError"
    assert hung_redis.wait_for_accepted(1) == 1
    for _ in range(50):
        assert not limiter.hit(RULE, "k").allowed
    assert hung_redis.accepted == 1  # breaker open: nothing was attempted
    clock.advance(5.0)
    limiter.hit(RULE, "k")  # half-open: exactly one trial goes out
    assert hung_redis.wait_for_accepted(2) == 2
    limiter.hit(RULE, "k")
    assert hung_redis.accepted == 2
    limiter.close()


async def test_hung_redis_async(hung_redis: HungServer, hung_redis_url: str) -> None:
    """The async limiter also decides on the timeout, then fails fast without connecting."""
    clock = FakeClock()
    config = RedisConfig(hung_redis_url, connect_timeout=0.25, command_timeout=0.25)
    limiter = AsyncRateLimiter(config, clock=clock)
    first = await limiter.hit(RULE, "k")
    assert first.allowed
    assert first.source == "policy"
    for _ in range(20):
        assert (await limiter.hit(RULE, "k")).source == "policy"
    assert hung_redis.wait_for_accepted(1) == 1
    assert hung_redis.accepted == 1
    assert await limiter.reset(RULE, "k") is False
    await limiter.aclose()


async def test_dead_redis_async_fallback(dead_redis_url: str) -> None:
    """The async local fallback counts exactly like the sync one."""
    limiter = AsyncRateLimiter(dead_redis_url, failure_policy="local_fallback", clock=FakeClock())
    allowed = [(await limiter.hit(RULE, "k")).allowed for _ in range(3)]
    assert allowed == [True, True, False]
    assert (await limiter.peek(RULE, "k")).source == "fallback"


@pytest.mark.parametrize("policy", ["local_fallback", "fail_closed"])
def test_outage_and_recovery_of_a_real_server(
    redis_server_factory: RedisServerFactory, policy: FailurePolicy
) -> None:
    """Stop the server: policy decisions; restart it: after the cooldown, Redis again."""
    server = redis_server_factory()
    clock = FakeClock()
    limiter = RateLimiter(server.url, failure_policy=policy, clock=clock, key_prefix="t:")
    rule = Rule("outage", "3/minute")
    assert limiter.hit(rule, "k").source == "storage"
    assert limiter.hit(rule, "k").remaining == 1
    server.stop()
    during = [limiter.hit(rule, "k") for _ in range(4)]
    assert all(r.degraded for r in during)
    if policy == "local_fallback":
        assert [r.allowed for r in during] == [True, True, True, False]
    else:
        assert not any(r.allowed for r in during)
    server.start()
    assert limiter.hit(rule, "k").degraded  # breaker still open: not even tried
    clock.advance(5.0)
    recovered = limiter.hit(rule, "k")
    assert recovered.source == "storage"
    assert recovered.allowed
    assert recovered.remaining == 2  # the restarted server kept nothing
    limiter.close()


def test_a_timed_out_script_is_never_sent_again(redis_url: str, redis_prefix: str) -> None:
    """The reply arrives after the timeout: one EVALSHA sent, the hit counted exactly once."""
    upstream = redis.Redis.from_url(redis_url)
    upstream.script_load(SCRIPT)  # so the only command under test is the EVALSHA
    host = upstream.connection_pool.connection_kwargs.get("host", "127.0.0.1")
    port = upstream.connection_pool.connection_kwargs.get("port", 6379)
    proxy = CountingProxy(str(host), int(port))
    try:
        config = RedisConfig(proxy.url, command_timeout=0.2)
        limiter = RateLimiter(config, key_prefix=redis_prefix, failure_policy="fail_closed")
        assert limiter.hit(RULE, "k").source == "storage"  # connection set up, 1 counted
        proxy.clear()
        proxy.reply_delay = 0.6
        timed_out = limiter.hit(RULE, "k")
        assert not timed_out.allowed
        assert timed_out.source == "policy"
        for _ in range(5):
            limiter.hit(RULE, "k")  # breaker open: nothing sent
        assert proxy.commands == ["EVALSHA"]
        # The server did run the script once: the count is 2, never 3.
        key = storage_key(redis_prefix, RULE, "k")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and upstream.hget(key, "2:60000:c") != b"2":
            time.sleep(0.05)
        assert upstream.hget(key, "2:60000:c") == b"2"
        limiter.close()
    finally:
        proxy.close()
        upstream.close()


def test_an_error_reply_is_decided_by_the_policy(redis_url: str, redis_prefix: str) -> None:
    """Even a non-outage error (WRONGTYPE on a clobbered key) never reaches the request."""
    upstream = redis.Redis.from_url(redis_url)
    upstream.set(storage_key(redis_prefix, RULE, "k"), "not a hash")
    limiter = RateLimiter(redis_url, key_prefix=redis_prefix, failure_policy="fail_closed")
    result = limiter.hit(RULE, "k")
    assert not result.allowed
    assert result.source == "policy"
    assert limiter.hit(RULE, "other").source == "storage"  # Redis itself is fine
    limiter.close()
    upstream.close()
