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


def test_a_miss_nobody_waits_for_leaves_no_lock_and_no_wake_stream(
    redis_url: str, redis_prefix: str
) -> None:
    """A miss writes the entry (and the namespace generation); the lock is gone and no
    wake-up stream was created, since no caller waited. A caller that finds the lock held
    makes the stream, and the holder's store then appends to it."""
    cache = Cache(redis_url, key_prefix=redis_prefix)

    @cache.cached(ttl=60, namespace="rt")
    def f(x: int) -> int:
        return x

    raw = redis.Redis.from_url(redis_url)
    try:
        f(1)
        keys = {k.decode() for k in raw.scan_iter(match=redis_prefix + "*")}
        assert keys == {f.key(1), redis_prefix + "{rt}:gen"}
        lock = f.key(2).replace(":v1:", ":lock:v1:", 1)
        wake = f.key(2).replace(":v1:", ":wake:v1:", 1)
        raw.set(lock, "another process", px=60_000)
        script = raw.register_script(FETCH)
        gen = raw.get(redis_prefix + "{rt}:gen")
        reply = script(keys=[redis_prefix + "{rt}:gen", f.key(2), lock, wake], args=["t", 5000])
        assert reply[:2] == [b"wait", gen]
        assert raw.xrange(wake)[0][0] == reply[2]  # the marker: waiters read what follows
        assert 0 < raw.pttl(wake) <= 5000
        store = raw.register_script(STORE)
        store(keys=[f.key(2), lock, wake], args=[b"entry", 60_000, "another process", 5000])
        ((entry_id, fields),) = raw.xrange(wake)  # MAXLEN 1: the marker is gone
        assert entry_id > reply[2]
        assert fields == {b"v": b"entry"}
        assert raw.exists(lock) == 0
    finally:
        raw.close()
        cache.close()
