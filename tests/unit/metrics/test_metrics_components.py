"""Component metrics: limiter decisions told by the limiter, and the cache, Redis breaker
and SQL pool read from the state they keep, outside any web app."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy
from prometheus_client import CollectorRegistry
from sqlalchemy.pool import QueuePool

from backendkit.cache import Cache
from backendkit.metrics import CACHE_COUNTERS, Metrics
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.redis import RedisConnector


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """One sample's value (``None`` when the registry has no such sample)."""
    return registry.get_sample_value(name, labels)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def test_limiter_decisions_are_counted_by_rule_outcome_and_source(
    registry: CollectorRegistry,
) -> None:
    """Two allowed and one denied hit of a 2/minute rule, from the limiter alone."""
    limiter = RateLimiter("memory://")
    Metrics(registry).watch_limiter(limiter)
    rule = Rule("login", "2/minute")
    assert [limiter.hit(rule, "ip:1").allowed for _ in range(3)] == [True, True, False]
    limiter.peek(rule, "ip:1")  # a peek decides nothing
    name = "backendkit_ratelimit_decisions_total"
    assert sample(registry, name, rule="login", decision="allowed", source="storage") == 2
    assert sample(registry, name, rule="login", decision="denied", source="storage") == 1


@pytest.mark.parametrize(
    ("policy", "decision", "source"),
    [
        ("fail_open", "allowed", "policy"),
        ("fail_closed", "denied", "policy"),
        ("local_fallback", "allowed", "fallback"),
    ],
)
def test_degraded_decisions_say_who_decided(
    registry: CollectorRegistry, dead_redis_url: str, policy: Any, decision: str, source: str
) -> None:
    """With Redis refused, the failure policy's decision is counted with its source."""
    limiter = RateLimiter(dead_redis_url, failure_policy=policy)
    Metrics(registry).watch_limiter(limiter)
    limiter.hit(Rule("api", "5/minute"), "ip:1")
    name = "backendkit_ratelimit_decisions_total"
    assert sample(registry, name, rule="api", decision=decision, source=source) == 1
    assert sample(registry, name, rule="api", decision=decision, source="storage") is None
    limiter.close()


async def test_the_async_limiter_is_counted_too(registry: CollectorRegistry) -> None:
    """The async twin tells its decisions through the same hook."""
    limiter = AsyncRateLimiter("memory://")
    Metrics(registry).watch_limiter(limiter)
    await limiter.hit(Rule("a", "1/minute"), "k")
    await limiter.hit(Rule("a", "1/minute"), "k")
    name = "backendkit_ratelimit_decisions_total"
    assert sample(registry, name, rule="a", decision="allowed", source="storage") == 1
    assert sample(registry, name, rule="a", decision="denied", source="storage") == 1


def test_cache_counters_are_read_from_cache_stats(registry: CollectorRegistry) -> None:
    """Hits, misses and loads come from the cache's own CacheStats, nothing counted twice."""
    cache = Cache("memory://", name="users")
    Metrics(registry).watch_cache(cache)
    calls = []

    @cache.cached(ttl=60)
    def load(user_id: int) -> dict[str, int]:
        calls.append(user_id)
        return {"id": user_id}

    for _ in range(3):
        load(1)
    load(2)
    snapshot = cache.stats.snapshot()
    assert sample(registry, "backendkit_cache_hits_total", cache="users") == snapshot.hits == 2
    assert sample(registry, "backendkit_cache_misses_total", cache="users") == snapshot.misses
    assert sample(registry, "backendkit_cache_loads_total", cache="users") == len(calls) == 2
    for name, _doc in CACHE_COUNTERS.values():
        assert sample(registry, name + "_total", cache="users") is not None


def test_cache_load_durations_are_a_histogram_read_from_cache_stats(
    registry: CollectorRegistry,
) -> None:
    """Each load's time on the cache's clock lands in its bucket; buckets are cumulative
    and caches of one name are summed."""
    from backendkit.cache import LOAD_BUCKETS
    from backendkit.testing import FakeClock

    clock = FakeClock()
    first, second = Cache(name="users", clock=clock), Cache(name="users", clock=clock)
    metrics = Metrics(registry)
    metrics.watch_cache(first)
    metrics.watch_cache(second)
    name = "backendkit_cache_load_duration_seconds"
    assert sample(registry, name + "_count", cache="users") == 0  # watched, no load yet

    for cache, seconds in ((first, 0.02), (second, 0.3)):

        @cache.cached(ttl=60)
        def load(key: int, seconds: float = seconds) -> int:
            clock.advance(seconds)
            return key

        load(1)
        load(1)
    assert sample(registry, name + "_count", cache="users") == 2
    assert sample(registry, name + "_sum", cache="users") == pytest.approx(0.32)
    assert sample(registry, name + "_bucket", cache="users", le="0.01") == 0
    assert sample(registry, name + "_bucket", cache="users", le="0.025") == 1
    assert sample(registry, name + "_bucket", cache="users", le="0.25") == 1
    assert sample(registry, name + "_bucket", cache="users", le="0.5") == 2
    assert sample(registry, name + "_bucket", cache="users", le="+Inf") == 2
    le = [s.labels.get("le") for f in registry.collect() if f.name == name for s in f.samples]
    assert [x for x in le if x] == [*(str(b) for b in LOAD_BUCKETS), "+Inf"]


def test_caches_of_one_name_are_summed_and_a_gone_cache_leaves(
    registry: CollectorRegistry,
) -> None:
    """Two caches named alike give one series; a cache that is collected is not read."""
    metrics = Metrics(registry)
    first, second = Cache(name="shared"), Cache(name="shared")
    metrics.watch_cache(first)
    metrics.watch_cache(second)
    first.stats.incr("hits", 2)
    second.stats.incr("hits", 3)
    assert sample(registry, "backendkit_cache_hits_total", cache="shared") == 5
    del first, second
    import gc

    gc.collect()
    assert sample(registry, "backendkit_cache_hits_total", cache="shared") is None


def test_the_redis_breaker_state_is_exposed(
    registry: CollectorRegistry, dead_redis_url: str
) -> None:
    """A connector's breaker: closed at first, open after the failures that open it."""
    connector = RedisConnector(dead_redis_url, name="sessions")
    Metrics(registry).watch_redis(connector)
    state = "backendkit_redis_breaker_state"
    assert sample(registry, state, connector="sessions", state="closed") == 1
    assert sample(registry, state, connector="sessions", state="open") == 0
    for _ in range(connector.breaker.threshold):
        connector.breaker.record_failure()
    assert sample(registry, state, connector="sessions", state="open") == 1
    assert sample(registry, state, connector="sessions", state="closed") == 0
    assert sample(registry, "backendkit_redis_breaker_failures", connector="sessions") == (
        connector.breaker.threshold
    )
    connector.close()


def test_the_sql_pool_is_read_at_scrape_time(registry: CollectorRegistry, tmp_path: Any) -> None:
    """Checked-out connections and overflow are the pool's own numbers, as they are now."""
    engine = sqlalchemy.create_engine(
        f"sqlite:///{tmp_path / 'db.sqlite'}", poolclass=QueuePool, pool_size=1, max_overflow=2
    )
    Metrics(registry).watch_engine(engine, "main")
    assert sample(registry, "backendkit_sql_pool_checked_out", engine="main") == 0
    with engine.connect(), engine.connect():
        assert sample(registry, "backendkit_sql_pool_checked_out", engine="main") == 2
        assert sample(registry, "backendkit_sql_pool_overflow", engine="main") == 1
    assert sample(registry, "backendkit_sql_pool_checked_out", engine="main") == 0
    assert sample(registry, "backendkit_sql_pool_size", engine="main") == 1
    engine.dispose()


def test_a_kit_watches_its_own_services(registry: CollectorRegistry) -> None:
    """``WebKit.from_settings(metrics=...)`` watches the limiters and cache it builds."""
    from backendkit.settings import Settings
    from backendkit.web import WebKit

    kit = WebKit.from_settings(Settings(env="test", secret_key="k" * 32), metrics=Metrics(registry))
    assert kit.limiter is not None
    assert kit.cache is not None
    kit.limiter.hit(Rule("r", "1/minute"), "k")
    kit.cache.stats.incr("misses")
    assert (
        sample(
            registry,
            "backendkit_ratelimit_decisions_total",
            rule="r",
            decision="allowed",
            source="storage",
        )
        == 1
    )
    assert sample(registry, "backendkit_cache_misses_total", cache=kit.cache.name) == 1
    kit.close()


def test_token_events_are_told_by_the_token_service(registry: CollectorRegistry) -> None:
    """Issued, refreshed, reuse detected and rejections by reason, counted exactly."""
    from backendkit.auth import JWTKey, TokenService
    from backendkit.errors import InvalidToken

    tokens = TokenService(JWTKey.hmac("k" * 32), store="memory://", refresh_grace=0)
    Metrics(registry).watch_tokens(tokens)
    pair = tokens.issue_pair("user-1")
    tokens.issue_access("user-1")
    rotated = tokens.refresh(pair.refresh_token)
    with pytest.raises(InvalidToken):
        tokens.refresh(pair.refresh_token)  # the retired token again: reuse
    with pytest.raises(InvalidToken):
        tokens.verify_access("not-a-token")
    with pytest.raises(InvalidToken):
        tokens.refresh(rotated.refresh_token)  # its session was revoked by the reuse
    assert sample(registry, "backendkit_tokens_issued_total", kind="session") == 1
    assert sample(registry, "backendkit_tokens_issued_total", kind="access") == 1
    assert sample(registry, "backendkit_token_refreshes_total", outcome="rotated") == 1
    assert sample(registry, "backendkit_token_reuse_detected_total") == 1
    rejections = {
        s.labels["reason"]: s.value
        for family in registry.collect()
        if family.name == "backendkit_token_rejections"
        for s in family.samples
        if s.name.endswith("_total")
    }
    assert sum(rejections.values()) == 2
    assert "session_revoked" in rejections


def test_password_hash_and_verify_are_timed(registry: CollectorRegistry) -> None:
    """Each hash and verification (a dummy one too, the async twin too) is one observation."""
    import asyncio

    from backendkit.testing import TestingPasswordHasher

    hasher = TestingPasswordHasher(allow=True)
    Metrics(registry).watch_passwords(hasher)
    stored = hasher.hash("correct horse")
    assert hasher.verify("correct horse", stored)
    assert not hasher.verify("wrong", stored)
    hasher.dummy_verify("x")
    assert asyncio.run(hasher.averify("correct horse", stored))
    hasher.close()
    count = "backendkit_password_duration_seconds_count"
    assert sample(registry, count, operation="hash") == 1
    assert sample(registry, count, operation="verify") == 4
    total = sample(registry, "backendkit_password_duration_seconds_sum", operation="verify")
    assert total is not None
    assert total > 0


@pytest.mark.parametrize(
    ("fixture", "kind"), [("dead_redis_url", "error"), ("hung_redis_url", "timeout")]
)
def test_redis_failures_are_counted_by_connector_and_kind(
    registry: CollectorRegistry, request: pytest.FixtureRequest, fixture: str, kind: str
) -> None:
    """A refused connection is an ``error``, a server that never answers a ``timeout``."""
    from backendkit.errors import BackendUnavailable
    from backendkit.redis import RedisConfig

    url = request.getfixturevalue(fixture)
    connector = RedisConnector(RedisConfig(url, breaker_threshold=5), name="store")
    Metrics(registry).watch_redis(connector)
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            connector.execute(lambda client: client.ping())
    assert sample(registry, "backendkit_redis_failures_total", connector="store", kind=kind) == 2
    connector.close()


def test_a_working_redis_counts_no_failure(registry: CollectorRegistry, redis_url: str) -> None:
    """The valid twin: calls that succeed count nothing."""
    connector = RedisConnector(redis_url, name="ok")
    Metrics(registry).watch_redis(connector)
    assert connector.execute(lambda client: client.ping())
    for kind in ("error", "timeout", "pool_exhausted"):
        assert (
            sample(registry, "backendkit_redis_failures_total", connector="ok", kind=kind) is None
        )
    connector.close()


def test_a_pool_without_counts_gives_no_pool_samples(registry: CollectorRegistry) -> None:
    """SQLite's in-memory pool keeps no checkout counts: nothing is made up for it."""
    engine = sqlalchemy.create_engine("sqlite://")
    Metrics(registry).watch_engine(engine, "memory")
    assert sample(registry, "backendkit_sql_pool_checked_out", engine="memory") is None
    assert sample(registry, "backendkit_sql_pool_size", engine="memory") is None
    engine.dispose()


def test_the_mirror_copies_component_values_with_their_multiprocess_modes(tmp_path: Any) -> None:
    """Cache counters are copied as cumulative (sum), pools as live sums, breakers as the
    worst live worker; a thread keeps copying in the process that serves requests."""
    import time

    from backendkit.metrics._components import ComponentCollector
    from backendkit.metrics._mirror import Mirror

    collector = ComponentCollector()
    cache = Cache(name="mirrored")
    collector.add_cache(cache.stats)
    engine = sqlalchemy.create_engine("sqlite://", poolclass=QueuePool)
    collector.add_engine(engine, "main")
    mirror = Mirror(collector, str(tmp_path), interval=0.01)
    cache.stats.incr("hits", 3)
    mirror.copy()

    def copied(name: str) -> tuple[str, dict[str, float]]:
        gauge = mirror._gauges[name]
        [family] = gauge.collect()
        return gauge._multiprocess_mode, {
            next(iter(s.labels.values())): s.value for s in family.samples if s.labels
        }

    assert copied("backendkit_cache_hits_total") == ("sum", {"mirrored": 3.0})
    cache.stats.record_load(0.2)
    mirror.copy()
    for part in ("_bucket", "_count", "_sum"):  # a histogram is cumulative too
        assert copied("backendkit_cache_load_duration_seconds" + part)[0] == "sum"
    assert copied("backendkit_cache_load_duration_seconds_sum")[1] == {"mirrored": 0.2}
    assert copied("backendkit_sql_pool_size")[0] == "livesum"
    mirror.start()
    mirror.start()  # one thread per process
    cache.stats.incr("hits")
    deadline = time.monotonic() + 10
    while copied("backendkit_cache_hits_total")[1]["mirrored"] != 4.0:
        assert time.monotonic() < deadline, "the thread never copied"
        time.sleep(0.01)
    assert mirror.running
    mirror.stop()
    mirror._forked()  # what a forked child starts with: no thread
    assert not mirror.running
    engine.dispose()


def test_sql_statements_are_counted_per_engine(registry: CollectorRegistry, tmp_path: Any) -> None:
    """Each statement an engine runs is one; watching twice does not count twice."""
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'count.sqlite'}")
    metrics = Metrics(registry)
    metrics.watch_engine(engine, "main")
    metrics.watch_engine(engine, "main")
    with engine.connect() as connection:
        for _ in range(3):
            connection.execute(sqlalchemy.text("SELECT 1"))
    assert sample(registry, "backendkit_sql_statements_total", engine="main") == 3
    engine.dispose()


async def test_an_async_engine_counts_through_its_core(
    registry: CollectorRegistry, tmp_path: Any
) -> None:
    """An AsyncEngine's statements are counted by its sync core's events."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'async.sqlite'}")
    Metrics(registry).watch_engine(engine, "async")
    async with engine.connect() as connection:
        await connection.execute(sqlalchemy.text("SELECT 1"))
    assert sample(registry, "backendkit_sql_statements_total", engine="async") == 1
    await engine.dispose()
