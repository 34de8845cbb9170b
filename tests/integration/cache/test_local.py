"""The in-process L1 on a real Redis: hits without a command, invalidation by other
processes, a Redis restart, the read/invalidation race, close and fork.

Each test runs its own redis-server (so ``INFO commandstats`` counts only this test and
the server can be killed and restarted). Waits for an invalidation are bounded polls of
the L1's state, the event the tracking thread produces, never a sleep that is asserted on.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import pytest
import redis
from pydantic import AfterValidator
from tests._services import RedisServer, RedisServerFactory

from backendkit.cache import Cache, LocalCache
from backendkit.cache._local import L1
from backendkit.cache._serde import Entry
from backendkit.redis import RedisConfig
from backendkit.testing import capture_logs

PREFIX = "l1:"
# A heartbeat longer than any test: no PING muddles the command counts.
QUIET = LocalCache(heartbeat=30)

# Runs in another process: changes item 1 of namespace "items" as the test asks.
_WRITER = """
import sys
from backendkit.cache import Cache
url, prefix, op = sys.argv[1:4]
cache = Cache(url, key_prefix=prefix)
if op == "set":
    assert cache.set("item:1", {"v": 2}, ttl=60, namespace="items")
elif op == "delete":
    assert cache.delete("item:1", namespace="items")
else:
    cache.invalidate_namespace("items")
cache.close()
"""


def _config(url: str) -> RedisConfig:
    return RedisConfig(url, connect_timeout=2, command_timeout=2)


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def _l1(cache: Cache) -> L1:
    local = cache._runtime.local
    assert local is not None
    return local


def _reads(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    names = ("get", "mget", "evalsha", "evalsha_ro", "eval")
    return sum(int(stats.get(f"cmdstat_{n}", {}).get("calls", 0)) for n in names)


def _run_writer(url: str, op: str) -> None:
    subprocess.run([sys.executable, "-c", _WRITER, url, PREFIX, op], check=True, timeout=60)


def _tracking_clients(client: redis.Redis) -> list[dict[str, Any]]:
    return [c for c in client.client_list() if c.get("name", "").endswith("-l1")]


@pytest.fixture
def server(redis_server_factory: RedisServerFactory) -> RedisServer:
    """A private redis-server for this test."""
    return redis_server_factory()


@pytest.fixture
def client(server: RedisServer) -> Any:
    """A plain redis-py client of the private server (another connection)."""
    r = redis.Redis.from_url(server.url)
    yield r
    r.close()


def _sync_items(cache: Cache, loads: list[int]) -> Any:
    @cache.cached(ttl=60, namespace="items", key="item:{n}")
    def item(n: int) -> dict[str, int]:
        loads.append(n)
        return {"v": 1}

    return item


def _async_items(cache: Cache, loads: list[int]) -> Any:
    @cache.cached(ttl=60, namespace="items", key="item:{n}")
    async def item(n: int) -> dict[str, int]:
        loads.append(n)
        return {"v": 1}

    return item


def _warm(call: Callable[[], Any], l1: L1, key: str) -> None:
    """Call until the entry of ``key`` sits in the L1 (tracking on, read inserted)."""
    _until(lambda: call() is not None and l1.lookup(key) is not None, "the L1 to hold the key")


async def _awarm(call: Callable[[], Any], l1: L1, key: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        await call()
        if l1.lookup(key) is not None:
            return
        assert time.monotonic() < deadline, "timed out waiting for the L1 to hold the key"
        await asyncio.sleep(0.002)


def test_a_hit_from_the_l1_sends_no_command(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    _warm(lambda: item(1), _l1(cache), item.key(1))
    before, hits = _reads(client), cache.stats.snapshot().hits
    values = [item(1) for _ in range(50)]
    assert _reads(client) == before
    assert cache.stats.snapshot().hits == hits + 50
    assert values == [{"v": 1}] * 50
    assert loads == [1]
    # Decoded per call: no caller shares (and may mutate) another's object.
    assert values[0] is not values[1]
    assert item.call_detailed(1).outcome.value == "hit"
    cache.close()


async def test_async_hit_from_the_l1_sends_no_command(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _async_items(cache, loads)
    await _awarm(lambda: item(1), _l1(cache), item.key(1))
    before = _reads(client)
    values = [await item(1) for _ in range(50)]
    assert _reads(client) == before
    assert values == [{"v": 1}] * 50
    assert loads == [1]
    assert values[0] is not values[1]
    await cache.aclose()
    cache.close()


def test_without_local_cache_no_thread_and_no_l1(server: RedisServer) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    assert [item(1) for _ in range(3)] == [{"v": 1}] * 3
    assert cache._runtime.local is None
    assert not [t for t in threading.enumerate() if t.name.endswith("-l1")]
    cache.close()


@pytest.mark.parametrize("op", ["set", "delete", "bump"])
def test_a_change_in_another_process_invalidates(server: RedisServer, op: str) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    _run_writer(server.url, op)
    _until(lambda: l1.lookup(key) is None, "the invalidation")
    if op == "set":
        assert item(1) == {"v": 2}
        assert loads == [1]
    else:
        assert item(1) == {"v": 1}
        assert loads == [1, 1]
    cache.close()


@pytest.mark.parametrize("op", ["set", "bump"])
async def test_async_a_change_in_another_process_invalidates(server: RedisServer, op: str) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _async_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    await _awarm(lambda: item(1), l1, key)
    await asyncio.to_thread(_run_writer, server.url, op)
    _until(lambda: l1.lookup(key) is None, "the invalidation")
    assert await item(1) == ({"v": 2} if op == "set" else {"v": 1})
    assert loads == ([1] if op == "set" else [1, 1])
    await cache.aclose()
    cache.close()


def test_expiry_on_the_server_invalidates(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    # PEXPIRE itself changes the key (an invalidation at once): read it back into the L1,
    # then the expiry must drop it again.
    client.pexpire(key, 1500)
    _until(lambda: l1.lookup(key) is None, "the PEXPIRE's invalidation")
    _warm(lambda: item(1), l1, key)
    _until(lambda: l1.lookup(key) is None, "the expiry's invalidation")
    assert not client.exists(key)
    assert item(1) == {"v": 1}
    assert loads == [1, 1]
    cache.close()


def test_own_invalidations_apply_at_once(server: RedisServer) -> None:
    """This process's delete, bump and set drop the entry before they return."""
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    assert item.invalidate(1)
    assert l1.lookup(key) is None
    _warm(lambda: item(1), l1, key)
    item.invalidate_all()
    assert l1.lookup(key) is None
    _warm(lambda: item(1), l1, key)
    assert cache.set("item:1", {"v": 3}, ttl=60, namespace="items")
    assert l1.lookup(key) is None
    assert item(1) == {"v": 3}
    cache.close()


async def test_async_own_invalidations_apply_at_once(server: RedisServer) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _async_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    await _awarm(lambda: item(1), l1, key)
    assert await item.invalidate(1)
    assert l1.lookup(key) is None
    await _awarm(lambda: item(1), l1, key)
    await item.invalidate_all()
    assert l1.lookup(key) is None
    await _awarm(lambda: item(1), l1, key)
    assert await cache.aset("item:1", {"v": 3}, ttl=60, namespace="items")
    assert l1.lookup(key) is None
    assert await item(1) == {"v": 3}
    await cache.aclose()
    cache.close()


def test_a_restart_empties_the_l1_until_tracking_is_back(server: RedisServer) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    with capture_logs() as logs:
        server.stop()
        _until(lambda: not l1.active, "the L1 to stop serving")
        assert len(l1) == 0
        # Redis is down: the call loads (degraded), as without an L1.
        assert item.call_detailed(1).degraded
        server.start()
        # A value the L1 never heard about: written while tracking was off.
        other = Cache(_config(server.url), key_prefix=PREFIX)
        assert other.set("item:1", {"v": 2}, ttl=60, namespace="items")
        other.close()
        _until(lambda: l1.active, "tracking to be on again", timeout=20)
    assert any(e["event"] == "cache_tracking_lost" for e in logs)
    assert any(e["event"] == "cache_tracking_restored" for e in logs)
    cache._runtime.sync_backend().connector.breaker.reset()  # type: ignore[attr-defined]
    assert item(1) == {"v": 2}
    _warm(lambda: item(1), l1, key)
    _run_writer(server.url, "delete")
    _until(lambda: l1.lookup(key) is None, "an invalidation after the restart")
    cache.close()


def test_an_invalidation_that_overtakes_the_read_keeps_it_out(server: RedisServer) -> None:
    """Redis answers with v1, v2 is written and its invalidation handled, then the
    reader would insert v1: it must not, or v1 would be served until the next change."""
    other = Cache(_config(server.url), key_prefix=PREFIX)
    assert other.set("item:1", {"v": 1}, ttl=60, namespace="items")
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    l1 = _l1(cache)
    armed = threading.Event()
    marker = Entry(b"marker", time.time() + 600, 0.0, b'{"v": 99}')

    def between_read_and_insert(value: dict[str, int]) -> dict[str, int]:
        # Runs while the payload read from Redis is decoded, before the insert.
        if armed.is_set():
            armed.clear()
            # Something to see dropped when the invalidation of v2 has been handled.
            _until(lambda: _planted(l1, key, marker), "the marker in the L1")
            assert other.set("item:1", {"v": 2}, ttl=60, namespace="items")
            _until(lambda: l1.lookup(key) is None, "the invalidation of v2")
        return value

    returns = Annotated[dict[str, int], AfterValidator(between_read_and_insert)]

    @cache.cached(ttl=60, namespace="items", key="item:{n}", returns=returns)
    def item(n: int) -> dict[str, int]:
        raise AssertionError("never loads: the entry is there")

    key = item.key(1)
    _warm(lambda: item(1), l1, key)
    l1.invalidate([key])
    armed.set()
    assert item(1) == {"v": 1}  # read before the change: a linearizable answer
    assert l1.lookup(key) is None
    assert item(1) == {"v": 2}
    cache.close()
    other.close()


async def test_async_an_invalidation_that_overtakes_the_read_keeps_it_out(
    server: RedisServer,
) -> None:
    other = Cache(_config(server.url), key_prefix=PREFIX)
    assert other.set("item:1", {"v": 1}, ttl=60, namespace="items")
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    l1 = _l1(cache)
    armed = threading.Event()
    marker = Entry(b"marker", time.time() + 600, 0.0, b'{"v": 99}')

    def between_read_and_insert(value: dict[str, int]) -> dict[str, int]:
        # Blocks the event loop on purpose: the tracking thread does not need it.
        if armed.is_set():
            armed.clear()
            _until(lambda: _planted(l1, key, marker), "the marker in the L1")
            assert other.set("item:1", {"v": 2}, ttl=60, namespace="items")
            _until(lambda: l1.lookup(key) is None, "the invalidation of v2")
        return value

    returns = Annotated[dict[str, int], AfterValidator(between_read_and_insert)]

    @cache.cached(ttl=60, namespace="items", key="item:{n}", returns=returns)
    async def item(n: int) -> dict[str, int]:
        raise AssertionError("never loads: the entry is there")

    key = item.key(1)
    await _awarm(lambda: item(1), l1, key)
    l1.invalidate([key])
    armed.set()
    assert await item(1) == {"v": 1}
    assert l1.lookup(key) is None
    assert await item(1) == {"v": 2}
    await cache.aclose()
    cache.close()
    other.close()


async def test_async_a_restart_empties_the_l1(server: RedisServer) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _async_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    await _awarm(lambda: item(1), l1, key)
    server.stop()
    _until(lambda: not l1.active, "the L1 to stop serving")
    assert len(l1) == 0
    assert (await item.call_detailed(1)).degraded
    server.start()
    other = Cache(_config(server.url), key_prefix=PREFIX)
    assert other.set("item:1", {"v": 2}, ttl=60, namespace="items")
    other.close()
    _until(lambda: l1.active, "tracking to be on again", timeout=20)
    cache._runtime.async_backend().connector.breaker.reset()  # type: ignore[attr-defined]
    assert await item(1) == {"v": 2}
    await cache.aclose()
    cache.close()


def _planted(l1: L1, key: str, marker: Entry) -> bool:
    l1.insert(key, marker, l1.token())
    return l1.lookup(key) is marker


def test_close_stops_the_thread_and_its_connection(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    item = _sync_items(cache, [])
    l1 = _l1(cache)
    _warm(lambda: item(1), l1, item.key(1))
    assert len(_tracking_clients(client)) == 1
    cache.close()
    assert not l1.active
    assert len(l1) == 0
    assert not [t for t in threading.enumerate() if t.name.endswith("-l1")]
    _until(lambda: not _tracking_clients(client), "the tracking connection to close")
    # Used again after close: tracking starts again, as the connections do.
    _warm(lambda: item(1), l1, item.key(1))
    cache.close()


def test_heartbeat_probes_a_silent_connection(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=LocalCache(heartbeat=0.01))
    item = _sync_items(cache, [])
    l1 = _l1(cache)
    _warm(lambda: item(1), l1, item.key(1))

    def pings() -> int:
        return int(client.info("commandstats").get("cmdstat_ping", {}).get("calls", 0))

    seen = pings()
    _until(lambda: pings() >= seen + 3, "heartbeat PINGs")
    assert l1.active
    assert l1.lookup(item.key(1)) is not None
    cache.close()


def test_a_forked_child_starts_empty_with_its_own_tracking(server: RedisServer) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    item = _sync_items(cache, [])
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    with warnings.catch_warnings():
        # Python 3.12 warns about forking a process with threads; this test means it.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:
            if not l1.active and len(l1) == 0 and item(1) == {"v": 1}:
                _warm(lambda: item(1), l1, key)
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's L1 is untouched by the child.
    assert l1.active
    assert l1.lookup(key) is not None
    cache.close()


def test_an_empty_prefix_tracks_every_key(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix="", local_cache=QUIET)
    item = _sync_items(cache, [])
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    client.set(key, b"changed elsewhere")
    _until(lambda: l1.lookup(key) is None, "the invalidation")
    cache.close()


def test_without_tracking_rights_the_cache_works_as_without_l1(
    server: RedisServer, client: Any
) -> None:
    """A user whose ACL denies CLIENT TRACKING: no L1, every call reads Redis."""
    client.acl_setuser(
        "app", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-client|tracking"]
    )
    url = server.url.replace("redis://", "redis://app:pw@")
    with capture_logs() as logs:
        cache = Cache(_config(url), key_prefix=PREFIX, local_cache=QUIET)
        loads: list[int] = []
        item = _sync_items(cache, loads)
        assert item(1) == {"v": 1}  # starts the tracking thread
        _until(lambda: any(e["event"] == "cache_tracking_lost" for e in logs), "the refusal")
        before = _reads(client)
        assert [item(1) for _ in range(5)] == [{"v": 1}] * 5
    assert loads == [1]
    assert _reads(client) >= before + 5
    assert cache.local_entries == 0
    assert not _l1(cache).active
    cache.close()


def test_a_flush_empties_the_l1(server: RedisServer, client: Any) -> None:
    cache = Cache(_config(server.url), key_prefix=PREFIX, local_cache=QUIET)
    loads: list[int] = []
    item = _sync_items(cache, loads)
    l1, key = _l1(cache), item.key(1)
    _warm(lambda: item(1), l1, key)
    client.flushdb()  # a private server: nobody else's keys
    _until(lambda: len(l1) == 0, "the flush's invalidation")
    assert l1.active
    assert item(1) == {"v": 1}
    assert loads == [1, 1]
    cache.close()
