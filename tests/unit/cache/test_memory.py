"""The memory backend: bounded LRU, TTLs on the injected clock, namespace generations."""

from __future__ import annotations

import pytest

from backendkit.cache._keys import entry_keys
from backendkit.cache._memory import MemoryBackend
from backendkit.cache._ops import Acquire, Bump, Delete, Release, Store, TryLock
from backendkit.errors import ConfigurationError
from backendkit.testing import FakeClock


def _keys(name: str) -> object:
    return entry_keys("p:", "ns", "1", name)


def test_store_and_read_with_ttl(fake_clock: FakeClock) -> None:
    """An entry is readable until its TTL passes on the injected clock, then gone."""
    mem = MemoryBackend(10, clock=fake_clock)
    keys = entry_keys("p:", "ns", "1", "a")
    mem.run(Bump(keys.namespace, b"g"))
    mem.run(Store(keys, b"1|g|0|0|1", 2000, None, 1))
    assert mem.read(keys) == (b"g", b"1|g|0|0|1")
    fake_clock.advance(1.999)
    assert mem.read(keys)[1] is not None
    fake_clock.advance(0.001)
    assert mem.read(keys) == (b"g", None)


def test_lru_evicts_least_recently_used(fake_clock: FakeClock) -> None:
    """Past max_entries the least recently *used* entry goes; a read refreshes recency."""
    mem = MemoryBackend(3, clock=fake_clock)
    ks = [entry_keys("p:", "ns", "1", str(i)) for i in range(4)]
    for k in ks[:3]:
        mem.run(Store(k, b"x", 60_000, None, 1))
    mem.read(ks[0])  # 0 becomes most recent; 1 is now the oldest
    mem.run(Store(ks[3], b"x", 60_000, None, 1))
    assert len(mem) == 3
    assert mem.read(ks[1])[1] is None
    assert all(mem.read(k)[1] == b"x" for k in (ks[0], ks[2], ks[3]))


def test_acquire_initializes_generation_and_rechecks(fake_clock: FakeClock) -> None:
    """Acquire sets a missing generation, grants the lock, and reports a current entry."""
    mem = MemoryBackend(10, clock=fake_clock)
    keys = entry_keys("p:", "ns", "1", "a")
    reply = mem.run(Acquire(keys, b"tok", 1000, b"gen1", 0))
    assert (reply.state, reply.gen) == ("lock", b"gen1")
    mem.run(Store(keys, b"1|gen1|9000|0|5", 1000, b"tok", 1))
    assert mem.run(Acquire(keys, b"t2", 1000, b"other", 0)).state == "hit"
    assert mem.run(Acquire(keys, b"t2", 1000, b"other", 9000)).state == "lock"
    mem.run(Bump(keys.namespace, b"gen2"))
    assert mem.run(Acquire(keys, b"t3", 1000, b"x", 0)).state == "lock"
    assert mem.run(TryLock(keys, b"t", 1)) is True
    assert mem.run(Release(keys, b"t", 1)) is None


def test_delete_and_clear(fake_clock: FakeClock) -> None:
    """Delete reports whether the entry existed; clear empties everything."""
    mem = MemoryBackend(10, clock=fake_clock)
    keys = entry_keys("p:", "ns", "1", "a")
    mem.run(Store(keys, b"x", 1000, None, 1))
    assert mem.run(Delete(keys.entry)) is True
    assert mem.run(Delete(keys.entry)) is False
    mem.run(Store(keys, b"x", 1000, None, 1))
    mem.clear()
    assert len(mem) == 0
    mem.close()


async def test_async_twin_is_the_same_call(fake_clock: FakeClock) -> None:
    """arun performs the same operation as run."""
    mem = MemoryBackend(10, clock=fake_clock)
    keys = entry_keys("p:", "ns", "1", "a")
    await mem.arun(Store(keys, b"x", 1000, None, 1))
    assert (await mem.aread(keys))[1] == b"x"
    await mem.aclose()


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_max_entries_must_be_a_positive_int(bad: object) -> None:
    """Non-positive or non-integer bounds are refused; 1 is accepted."""
    with pytest.raises(ConfigurationError):
        MemoryBackend(bad)  # type: ignore[arg-type]
    assert MemoryBackend(1).max_entries == 1
