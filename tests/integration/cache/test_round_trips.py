"""Round trips per call on Redis: a hit is one MGET, a protected miss two commands.

Counted by a counting proxy, with the scripts already cached on the server so every
``EVALSHA`` is exactly one command (a server that lacks them adds one ``SCRIPT LOAD``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable

import redis
from tests.integration.cache._proxy import CountingProxy

from backendkit.cache import Cache, Outcome
from backendkit.cache._lock import ACQUIRE, FETCH, RELEASE, STORE

_NAMES = {
    hashlib.sha1(s.encode()).hexdigest(): n
    for n, s in (("fetch", FETCH), ("acquire", ACQUIRE), ("store", STORE), ("release", RELEASE))
}


def _preload(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for script in (FETCH, ACQUIRE, STORE, RELEASE):
            client.script_load(script)
    finally:
        client.close()


def _sent(proxy: CountingProxy) -> Counter[str]:
    """Commands since the last reset, scripts by name; then reset."""
    work = proxy.work()
    scripts = proxy.scripts()
    proxy.reset()
    work.pop("EVALSHA", None)
    counts = Counter({name.lower(): n for name, n in work.items()})
    counts.update({_NAMES[sha]: n for sha, n in scripts.items()})
    return counts


def test_sync_miss_is_two_commands_hit_is_one(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[..., CountingProxy]
) -> None:
    """Cold miss: the read that locks, the store. Hit: one MGET. Delete: two again."""
    _preload(redis_url)
    proxy = counting_proxy(redis_url)
    cache = Cache(proxy.url(), key_prefix=redis_prefix)
    other = Cache(redis_url, key_prefix=redis_prefix)  # another process

    @cache.cached(ttl=60, namespace="rt")
    def f(x: int) -> int:
        return x

    @other.cached(ttl=60, namespace="rt")
    def g(x: int) -> int:
        return x

    assert f.call_detailed(1).outcome is Outcome.LOADED
    assert _sent(proxy) == Counter({"fetch": 1, "store": 1})
    assert f.call_detailed(1).outcome is Outcome.HIT  # read by the script: now known fresh
    assert _sent(proxy) == Counter({"fetch": 1})
    assert f.call_detailed(1).outcome is Outcome.HIT
    assert _sent(proxy) == Counter({"mget": 1})
    assert f.invalidate(1) is True
    assert f.call_detailed(1).outcome is Outcome.LOADED
    assert _sent(proxy) == Counter({"del": 1, "fetch": 1, "store": 1})
    f(1)
    _sent(proxy)
    g.invalidate_all()  # elsewhere: this process still expects a hit
    assert f.call_detailed(1).outcome is Outcome.LOADED
    assert _sent(proxy) == Counter({"mget": 1, "acquire": 1, "store": 1})
    cache.close()
    other.close()


async def test_async_miss_is_two_commands_hit_is_one(
    redis_url: str, redis_prefix: str, counting_proxy: Callable[..., CountingProxy]
) -> None:
    """The async twin."""
    _preload(redis_url)
    proxy = counting_proxy(redis_url)
    cache = Cache(proxy.url(), key_prefix=redis_prefix)

    @cache.cached(ttl=60, namespace="rt")
    async def f(x: int) -> int:
        return x

    assert (await f.call_detailed(1)).outcome is Outcome.LOADED
    assert _sent(proxy) == Counter({"fetch": 1, "store": 1})
    await f(1)
    _sent(proxy)
    assert (await f.call_detailed(1)).outcome is Outcome.HIT
    assert _sent(proxy) == Counter({"mget": 1})
    other = Cache(redis_url, key_prefix=redis_prefix)  # another process
    other.invalidate_namespace("rt")
    assert (await f.call_detailed(1)).outcome is Outcome.LOADED
    assert _sent(proxy) == Counter({"mget": 1, "acquire": 1, "store": 1})
    other.close()
    await cache.aclose()
