"""RedisTokenStore on real Redis: key layout, TTLs, and failing closed when Redis is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import redis
from tests._services import HungServer, RedisServerFactory

from backendkit.auth import (
    JWTKey,
    MemoryTokenStore,
    RedisTokenStore,
    TokenService,
    token_store_from_url,
)
from backendkit.errors import BackendUnavailable, ConfigurationError, InvalidToken
from backendkit.redis import AsyncRedisConnector, BreakerState, RedisConnector
from backendkit.settings import Settings
from backendkit.testing import FakeClock, capture_logs

SECRET = b"redis-store-test-secret-0123456789"


def _key() -> JWTKey:
    return JWTKey.hmac(SECRET, kid="rs-1")


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def store(redis_url: str, redis_prefix: str, fake_clock: FakeClock) -> Iterator[RedisTokenStore]:
    conn = RedisConnector(redis_url, clock=fake_clock)
    yield RedisTokenStore(conn, key_prefix=redis_prefix)
    conn.close()


def test_keys_live_under_the_prefix_with_one_hash_tag(
    store: RedisTokenStore, raw: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    """Every key of a user carries the prefix and one {hash tag}; no user id appears raw."""
    service = TokenService(_key(), store=store, clock=fake_clock)
    pair = service.issue_pair("alice@example.com")
    service.refresh(pair.refresh_token)
    keys = sorted(raw.scan_iter(match=redis_prefix + "*"))
    assert len(keys) == 3  # family, grace pair, session set
    tags = {k[len(redis_prefix) :].split("}")[0] for k in keys}
    assert len(tags) == 1
    assert next(iter(tags)).startswith("{")
    assert all("alice" not in k for k in keys)
    assert store.key_prefix == redis_prefix


def test_ttls_equal_the_remaining_lifetime(
    store: RedisTokenStore, raw: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    """The session lives as long as its refresh token; the grace pair only a few seconds."""
    service = TokenService(
        _key(), store=store, clock=fake_clock, refresh_ttl=3600, refresh_grace=5, leeway=10
    )
    pair = service.issue_pair("u1")
    fake_clock.advance(100)
    service.refresh(pair.refresh_token)
    ttls = {k.split(":")[-1][:1]: raw.pttl(k) for k in raw.scan_iter(match=redis_prefix + "*")}
    family = next(raw.pttl(k) for k in raw.scan_iter(match=redis_prefix + "*f:*"))
    pair_ttl = next(raw.pttl(k) for k in raw.scan_iter(match=redis_prefix + "*p:*"))
    # New refresh exp = now + 3600, plus 10 s leeway: 3610 s from the (fake) now.
    assert 3_600_000 < family <= 3_610_000
    assert 0 < pair_ttl <= 6_000
    assert all(ttl > 0 for ttl in ttls.values())  # nothing lives forever


def test_denied_jti_expires_with_the_token(
    store: RedisTokenStore, raw: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    """A revoked jti is kept exactly until its token would have expired anyway."""
    service = TokenService(_key(), store=store, clock=fake_clock, access_ttl=300)
    token = service.issue_access("u1")
    fake_clock.advance(100)
    service.revoke(token)
    (denied,) = list(raw.scan_iter(match=redis_prefix + "*j:*"))
    assert 199_000 < raw.pttl(denied) <= 200_000
    with pytest.raises(InvalidToken):
        service.verify_access(token, check_revoked=True)


def test_revoking_an_expired_token_writes_nothing(
    store: RedisTokenStore, raw: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    """No record is kept for a token that can no longer verify."""
    service = TokenService(_key(), store=store, clock=fake_clock, access_ttl=60)
    token = service.issue_access("u1")
    fake_clock.advance(61)
    service.revoke(token)
    assert list(raw.scan_iter(match=redis_prefix + "*")) == []


def test_revoke_user_key_expires(
    store: RedisTokenStore, raw: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    """The per-user cut-off lives as long as the longest token could."""
    service = TokenService(
        _key(), store=store, clock=fake_clock, refresh_ttl=1000, max_session_lifetime=5000
    )
    service.revoke_user("u1")
    (nb,) = list(raw.scan_iter(match=redis_prefix + "*nb"))
    assert 4_999_000 < raw.pttl(nb) <= 5_000_000


def test_dead_redis_fails_closed(dead_redis_url: str, fake_clock: FakeClock) -> None:
    """Nothing listening: login, refresh, revocation and checks raise 503, never succeed."""
    good = TokenService(_key(), clock=fake_clock)  # a working store, to mint valid tokens
    pair = good.issue_pair("u1")
    conn = RedisConnector(dead_redis_url, clock=fake_clock)
    service = TokenService(_key(), store=RedisTokenStore(conn), clock=fake_clock)
    with pytest.raises(BackendUnavailable) as refused:
        service.refresh(pair.refresh_token)
    assert refused.value.status == 503
    assert refused.value.code == "SERVICE_UNAVAILABLE"
    for call in (
        lambda: service.issue_pair("u1"),
        lambda: service.refresh(pair.refresh_token),
        lambda: service.verify_access(pair.access_token, check_revoked=True),
        lambda: service.revoke(pair.refresh_token),
        lambda: service.revoke_user("u1"),
    ):
        with pytest.raises(BackendUnavailable):
            call()
    # Stateless verification needs no store (the documented default).
    assert service.verify_access(pair.access_token).sub == "u1"
    assert conn.breaker.state is BreakerState.OPEN


async def test_dead_redis_fails_closed_async(dead_redis_url: str, fake_clock: FakeClock) -> None:
    """The async API fails closed the same way."""
    pair = TokenService(_key(), clock=fake_clock).issue_pair("u1")
    conn = AsyncRedisConnector(dead_redis_url, clock=fake_clock)
    service = TokenService(_key(), store=RedisTokenStore(conn), clock=fake_clock)
    with pytest.raises(BackendUnavailable):
        await service.arefresh(pair.refresh_token)
    with pytest.raises(BackendUnavailable):
        await service.aissue_pair("u1")
    with pytest.raises(BackendUnavailable):
        await service.averify_access(pair.access_token, check_revoked=True)
    await conn.aclose()


def test_stopped_server_fails_closed_then_recovers(
    redis_server_factory: RedisServerFactory, fake_clock: FakeClock
) -> None:
    """Redis stops mid-session: refresh is a 503 (no pair); once back, service resumes."""
    server = redis_server_factory()
    conn = RedisConnector(server.url, clock=fake_clock)
    service = TokenService(_key(), store=RedisTokenStore(conn), clock=fake_clock)
    pair = service.issue_pair("u1")
    server.stop()
    with capture_logs() as logs, pytest.raises(BackendUnavailable):
        service.refresh(pair.refresh_token)
    assert "refresh_token_reuse" not in [e["event"] for e in logs]
    server.start()
    fake_clock.advance(conn.config.breaker_cooldown)
    # The restarted server lost its data (no persistence): the old session is unknown,
    # and is refused rather than trusted.
    with pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token)
    fresh = service.issue_pair("u1")
    assert service.refresh(fresh.refresh_token).session_id == fresh.session_id
    conn.close()


def test_hung_server_fails_closed(hung_redis: HungServer, fake_clock: FakeClock) -> None:
    """A server that accepts and never answers: 503 after the command timeout, then fast."""
    pair = TokenService(_key(), clock=fake_clock).issue_pair("u1")
    conn = RedisConnector(hung_redis.url, clock=fake_clock)
    service = TokenService(_key(), store=RedisTokenStore(conn), clock=fake_clock)
    with pytest.raises(BackendUnavailable):
        service.refresh(pair.refresh_token)
    accepted = hung_redis.accepted
    with pytest.raises(BackendUnavailable):
        service.refresh(pair.refresh_token)  # breaker open: no new connection attempted
    assert hung_redis.accepted == accepted
    conn.close()


def test_url_built_store_works_sync_and_async(redis_url: str, redis_prefix: str) -> None:
    """A store from a URL gets both connectors; close() and aclose() release them."""
    store = token_store_from_url(redis_url, key_prefix=redis_prefix)
    assert isinstance(store, RedisTokenStore)
    service = TokenService(_key(), store=store)
    pair = service.issue_pair("u1")

    async def use_async() -> None:
        refreshed = await service.arefresh(pair.refresh_token)
        assert refreshed.session_id == pair.session_id
        await store.aclose()

    asyncio.run(use_async())
    store.close()


def test_service_takes_a_redis_url_directly(redis_url: str) -> None:
    """TokenService(store="redis://...") builds a Redis store."""
    service = TokenService(_key(), store=redis_url)
    assert isinstance(service.store, RedisTokenStore)
    assert service.store.key_prefix == "backendkit:tokens:"
    service.store.close()


def test_from_settings_uses_redis_url(redis_url: str, fake_clock: FakeClock) -> None:
    """With BACKENDKIT_REDIS_URL set, from_settings stores sessions in Redis."""
    settings = Settings(env="test", redis_url=redis_url, jwt_secret=SECRET.decode())
    service = TokenService.from_settings(settings, clock=fake_clock)
    assert isinstance(service.store, RedisTokenStore)
    service.store.close()


async def test_one_sided_stores_refuse_the_other_side(redis_url: str, redis_prefix: str) -> None:
    """A store with only a sync (or only an async) connector says so, naming the fix."""
    sync_conn = RedisConnector(redis_url)
    async_conn = AsyncRedisConnector(redis_url)
    sync_only = TokenService(_key(), store=RedisTokenStore(sync_conn, key_prefix=redis_prefix))
    async_only = TokenService(_key(), store=RedisTokenStore(async_conn, key_prefix=redis_prefix))
    with pytest.raises(ConfigurationError, match="no async connector"):
        await sync_only.aissue_pair("u1")
    with pytest.raises(ConfigurationError, match="no sync connector"):
        async_only.issue_pair("u1")
    with pytest.raises(ConfigurationError, match="no sync connector"):
        async_only.revoke_jti("u1", "j1")
    with pytest.raises(ConfigurationError, match="no async connector"):
        await sync_only.arevoke_jti("u1", "j1")
    # Valid twins: each side works on its own.
    assert (await async_only.aissue_pair("u1")).session_id
    assert sync_only.issue_pair("u1").session_id
    sync_conn.close()
    await async_conn.aclose()


def test_store_needs_redis(fake_clock: FakeClock) -> None:
    """Anything but a URL, config or connector is refused."""
    with pytest.raises(ConfigurationError, match="needs a Redis URL"):
        RedisTokenStore(MemoryTokenStore())  # type: ignore[arg-type]
    assert "key_prefix" in repr(RedisTokenStore("redis://127.0.0.1:1/0"))
