"""Load durations in CacheStats: buckets, totals, the parent's share, reset, and a real load."""

from __future__ import annotations

import pytest

from backendkit.cache import LOAD_BUCKETS, Cache, CacheStats
from backendkit.testing import FakeClock


def test_a_load_lands_in_the_first_bucket_whose_bound_it_does_not_exceed() -> None:
    """Bounds are inclusive (Prometheus's ``le``); past the last bound is the last bucket."""
    stats = CacheStats()
    stats.record_load(0.0)
    stats.record_load(LOAD_BUCKETS[0])  # exactly on a bound: that bucket
    stats.record_load(0.3)
    stats.record_load(LOAD_BUCKETS[-1] + 1)
    snap = stats.snapshot()
    expected = [0] * (len(LOAD_BUCKETS) + 1)
    expected[0] = 2
    expected[LOAD_BUCKETS.index(0.5)] = 1
    expected[-1] = 1
    assert list(snap.load_buckets) == expected
    assert snap.loads == snap.timed_loads == 4
    assert snap.load_seconds == pytest.approx(0.0 + LOAD_BUCKETS[0] + 0.3 + LOAD_BUCKETS[-1] + 1)


def test_load_durations_forward_to_the_parent_and_reset_alone() -> None:
    """A function's loads are its cache's too; resetting the function leaves the cache's."""
    parent = CacheStats("cache")
    child = CacheStats("fn", parent=parent)
    child.record_load(0.02)
    assert parent.snapshot().load_buckets == child.snapshot().load_buckets
    assert parent.snapshot().load_seconds == child.snapshot().load_seconds == 0.02
    child.reset()
    assert child.snapshot().timed_loads == child.snapshot().loads == 0
    assert child.snapshot().load_seconds == 0.0
    assert parent.snapshot().timed_loads == parent.snapshot().loads == 1


def test_durations_are_not_counters_in_as_dict() -> None:
    """as_dict stays the event counters (integers), so logs and exporters treat them as such."""
    stats = CacheStats()
    stats.record_load(0.1)
    counters = stats.snapshot().as_dict()
    assert counters["loads"] == 1
    assert not {"timed_loads", "load_seconds", "load_buckets"} & counters.keys()
    assert all(isinstance(value, int) for value in counters.values())


def test_a_cached_call_records_its_loader_time_on_the_cache_clock() -> None:
    """The loader's duration is read from the cache's clock: a miss that takes 0.3 s is one
    load in the 0.5 s bucket; a hit records nothing."""
    clock = FakeClock()
    cache = Cache("memory://", name="users", clock=clock)

    @cache.cached(ttl=60)
    def load(user_id: int) -> int:
        clock.advance(0.3)
        return user_id

    assert load(1) == 1
    assert load(1) == 1  # a hit
    snap = cache.stats.snapshot()
    assert (snap.hits, snap.loads, snap.timed_loads) == (1, 1, 1)
    assert snap.load_seconds == pytest.approx(0.3)
    assert snap.load_buckets[LOAD_BUCKETS.index(0.5)] == 1
    assert load.stats.snapshot().load_buckets == snap.load_buckets
