"""RedisOneTimeTokenStore: the one-time token contract on the real Redis (keys under a
per-test prefix), sync and async; 20 racing consumes of one token; what the keys hold; and
a Redis that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis
from tests.unit.auth._one_time_contract import ANN, SERVER_KEY, Driver, OneTimeContract, Outbox

from backendkit.auth import PASSWORD_RESET, OneTimeTokens, RedisOneTimeTokenStore
from backendkit.errors import BackendUnavailable, ConfigurationError
from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.testing import FakeClock


class TestRedisStore(OneTimeContract):
    @pytest.fixture(params=["sync", "async"])
    async def ott(
        self, request: pytest.FixtureRequest, redis_url: str, redis_prefix: str
    ) -> AsyncIterator[Driver]:
        clock, outbox = FakeClock(), Outbox()
        store = RedisOneTimeTokenStore(redis_url, key_prefix=redis_prefix)
        service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox, clock=clock)
        try:
            yield Driver(service, clock, outbox, asynchronous=request.param == "async")
        finally:
            store.close()
            await store.aclose()


def test_redis_holds_digests_with_a_ttl_never_the_token(redis_url: str, redis_prefix: str) -> None:
    """Every key is under the prefix and expires with the token; the token appears in no
    key and no value; a consume deletes the record."""
    outbox = Outbox()
    store = RedisOneTimeTokenStore(redis_url, key_prefix=redis_prefix)
    service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox, clock=FakeClock())
    service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    token = outbox.last()
    raw = redis.Redis.from_url(redis_url)
    try:
        keys = sorted(k.decode() for k in raw.scan_iter(match=redis_prefix + "*"))
        assert [k[len(redis_prefix)] for k in keys] == ["t", "u"]
        for key in keys:
            assert 0 < raw.pttl(key) <= service.ttl(PASSWORD_RESET) * 1000
            assert token not in key
            assert token.encode() not in raw.dump(key)
        service.consume(PASSWORD_RESET, token)
        assert not raw.exists(keys[0])
    finally:
        raw.close()
        store.close()


async def test_shared_connectors_serve_each_flavour_and_refuse_the_other(
    redis_url: str, redis_prefix: str
) -> None:
    """A store on a sync connector refuses async calls and the other way round."""
    sync_store = RedisOneTimeTokenStore(RedisConnector(redis_url), key_prefix=redis_prefix)
    async_store = RedisOneTimeTokenStore(AsyncRedisConnector(redis_url), key_prefix=redis_prefix)
    assert sync_store.take(["0" * 64]) is None
    assert await async_store.atake(["0" * 64]) is None
    with pytest.raises(ConfigurationError):
        await sync_store.atake(["0" * 64])
    with pytest.raises(ConfigurationError):
        async_store.take(["0" * 64])
    with pytest.raises(ConfigurationError):
        RedisOneTimeTokenStore(42)  # type: ignore[arg-type]
    assert redis_prefix in repr(sync_store)
    sync_store.close()
    await async_store.aclose()


async def test_a_redis_that_is_down_is_a_503_for_issue_and_consume(down_redis_url: str) -> None:
    """Refused or hung: BackendUnavailable (503), sync and async; nothing is sent."""
    outbox = Outbox()
    store = RedisOneTimeTokenStore(down_redis_url)
    service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox)
    with pytest.raises(BackendUnavailable):
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    with pytest.raises(BackendUnavailable):
        await service.aconsume(PASSWORD_RESET, "A" * 43)
    assert outbox.sent == []
    store.close()
    await store.aclose()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_the_store_runs_on_redis_cluster(redis_cluster_url: str, flavour: str) -> None:
    """Issue, invalidate (keys of several slots deleted by one call) and consume on a
    cluster, where a command spanning slots would be refused."""
    outbox = Outbox()
    store = RedisOneTimeTokenStore(redis_cluster_url, key_prefix=f"ott-{flavour}:")
    service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox, clock=FakeClock())
    try:
        if flavour == "sync":
            service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
            service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
            assert service.invalidate("7") == 2
            service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
            assert service.consume(PASSWORD_RESET, outbox.last()).user_id == "7"
        else:
            await service.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)
            await service.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)
            assert await service.ainvalidate("7") == 2
            await service.aissue(PASSWORD_RESET, ANN, user_id="7", address=None)
            assert (await service.aconsume(PASSWORD_RESET, outbox.last())).user_id == "7"
    finally:
        store.close()
        await store.aclose()
