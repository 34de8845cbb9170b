"""Counters: increments, parent totals, snapshots, reset and logging."""

from __future__ import annotations

import threading

from backendkit.cache import CacheStats
from backendkit.testing import capture_logs


def test_counts_forward_to_the_parent() -> None:
    """A function's counts are added to its cache's."""
    parent = CacheStats("cache")
    child = CacheStats("fn", parent=parent)
    child.incr("hits")
    child.incr("misses", 2)
    parent.incr("hits")
    assert child.snapshot().hits == 1
    assert parent.snapshot().hits == 2
    assert parent.snapshot().misses == 2
    assert child.snapshot().hit_ratio == 1 / 3
    child.reset()
    assert child.snapshot().as_dict() == dict.fromkeys(child.snapshot().as_dict(), 0)
    assert parent.snapshot().hits == 2
    assert "fn" in repr(child)


def test_empty_hit_ratio_is_zero() -> None:
    """No calls: the ratio is 0, not a ZeroDivisionError."""
    assert CacheStats().snapshot().hit_ratio == 0.0


def test_concurrent_increments_are_not_lost() -> None:
    """Eight threads x 1000 increments count exactly 8000."""
    stats = CacheStats()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(1000):
            stats.incr("loads")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.snapshot().loads == 8000


def test_log_emits_one_event_with_every_counter() -> None:
    """log() writes a cache_stats event with the counters and extra fields."""
    stats = CacheStats("users")
    stats.incr("hits", 3)
    stats.incr("misses")
    with capture_logs() as logs:
        snap = stats.log(interval="1m")
    assert snap.hits == 3
    (event,) = [e for e in logs if e["event"] == "cache_stats"]
    assert event["cache"] == "users"
    assert event["hits"] == 3
    assert event["misses"] == 1
    assert event["hit_ratio"] == 0.75
    assert event["interval"] == "1m"
    assert event["log_level"] == "info"
