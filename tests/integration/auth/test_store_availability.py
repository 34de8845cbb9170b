"""TokenService.ensure_available: a login asks the store before it checks a password.

During an outage a right password would otherwise end in a 503 (no session can be
recorded) and a wrong one in a 401, which tells a guesser which guess was right.
"""

from __future__ import annotations

import pytest

from backendkit.auth import JWTKey, RedisTokenStore, TokenService
from backendkit.errors import BackendUnavailable
from backendkit.redis import RedisConfig

KEY = JWTKey.hmac(b"availability-test-secret-0123456789", kid="av-1")


def test_a_reachable_store_passes(redis_url: str, redis_prefix: str) -> None:
    """Real Redis answers: nothing is raised, sync and async alike."""
    store = RedisTokenStore(redis_url, key_prefix=redis_prefix)
    tokens = TokenService(KEY, store=store)
    try:
        tokens.ensure_available()
    finally:
        store.close()


async def test_a_reachable_store_passes_async(redis_url: str, redis_prefix: str) -> None:
    store = RedisTokenStore(redis_url, key_prefix=redis_prefix)
    tokens = TokenService(KEY, store=store)
    try:
        await tokens.aensure_available()
    finally:
        await store.aclose()


def test_an_unreachable_store_is_a_503_with_retry_after(down_redis_url: str) -> None:
    """Refused or hung: BackendUnavailable carrying the breaker's cooldown, then fast."""
    store = RedisTokenStore(RedisConfig(down_redis_url, breaker_cooldown=3), key_prefix="bk:")
    tokens = TokenService(KEY, store=store)
    try:
        for _ in range(2):  # the second is answered by the open breaker
            with pytest.raises(BackendUnavailable) as info:
                tokens.ensure_available()
            assert 1 <= int(info.value.headers["Retry-After"]) <= 3
    finally:
        store.close()


async def test_an_unreachable_store_is_a_503_async(down_redis_url: str) -> None:
    store = RedisTokenStore(RedisConfig(down_redis_url, breaker_cooldown=3), key_prefix="bk:")
    tokens = TokenService(KEY, store=store)
    try:
        with pytest.raises(BackendUnavailable):
            await tokens.aensure_available()
    finally:
        await store.aclose()


async def test_the_memory_store_is_always_available() -> None:
    """A store without ping (memory, or a custom one) is taken to be available."""
    tokens = TokenService(KEY, store="memory://")
    tokens.ensure_available()
    await tokens.aensure_available()
