"""The L1's bookkeeping (no Redis): options, invalidation counters, bounds, serving."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from backendkit.cache import Cache, LocalCache
from backendkit.cache._early import Freshness, classify
from backendkit.cache._local import L1, MISS, serve
from backendkit.cache._serde import Codec, Entry
from backendkit.cache._tracking import Tracker
from backendkit.errors import ConfigurationError
from backendkit.redis import RedisConfig

KEY = "p:{ns}:v1:k:a"
GEN = "p:{ns}:gen"


def _entry(payload: bytes = b"1", fresh_until: float = 100.0, delta: float = 0.0) -> Entry:
    return Entry(b"g", fresh_until, delta, payload)


def _active(max_entries: int = 10) -> L1:
    l1 = L1(LocalCache(max_entries=max_entries), lambda: None)
    l1.enable()
    return l1


class _Plan:
    """What `serve` reads of a function's plan."""

    def __init__(self, beta: float = 1.0, seed: int = 0) -> None:
        self.codec: Codec[Any] = Codec(int)
        self.rng = random.Random(seed)
        self.policy = type("P", (), {"early_recompute": beta})()


@pytest.mark.parametrize(
    "options",
    [
        {"max_entries": 0},
        {"max_entries": True},
        {"max_entries": 1.5},
        {"heartbeat": 0},
        {"heartbeat": float("inf")},
        {"heartbeat": "1"},
        {"heartbeat": False},
    ],
)
def test_rejects_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="LocalCache"):
        LocalCache(**options)


def test_accepts_good_options() -> None:
    assert LocalCache(max_entries=1, heartbeat=0.5) == LocalCache(1, 0.5)
    assert LocalCache(heartbeat=2).max_entries == 10_000


@pytest.mark.parametrize(
    ("backend", "match"),
    [
        ("memory://", "memory:// cache is in-process"),
        ("redis+cluster://127.0.0.1:7000", "across a cluster"),
        ("redis+sentinel://127.0.0.1:26379/main", "across a sentinel"),
        ("redis://127.0.0.1:1/0?protocol=2", "needs RESP3"),
    ],
)
def test_rejects_backends_it_cannot_track(backend: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        Cache(backend, local_cache=LocalCache())


def test_rejects_other_values_than_local_cache() -> None:
    with pytest.raises(ConfigurationError, match="must be a LocalCache"):
        Cache("redis://127.0.0.1:1/0", local_cache={"max_entries": 5})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "backend",
    [
        "redis://127.0.0.1:1/0",
        "redis://127.0.0.1:1/0?protocol=3",
        "rediss://h:1/2",
        "unix:///tmp/r.sock",
        RedisConfig("redis://h"),
    ],
)
def test_accepts_standalone_redis_and_starts_nothing(backend: Any) -> None:
    before = threading.active_count()
    cache = Cache(backend, local_cache=LocalCache())
    local = cache._runtime.local
    assert local is not None
    assert not local.active
    assert len(local) == 0
    assert threading.active_count() == before
    cache.close()


def test_an_inactive_l1_serves_and_keeps_nothing() -> None:
    woken: list[int] = []
    l1 = L1(LocalCache(), lambda: woken.append(1))
    l1.insert(KEY, _entry(), l1.token())
    assert l1.lookup(KEY) is None
    assert len(l1) == 0
    assert woken == [1]


def test_insert_then_lookup() -> None:
    l1 = _active()
    entry = _entry()
    l1.insert(KEY, entry, l1.token())
    assert l1.lookup(KEY) is entry


def test_an_invalidation_after_the_token_refuses_the_insert() -> None:
    l1 = _active()
    token = l1.token()
    l1.invalidate([KEY])
    l1.insert(KEY, _entry(), token)
    assert l1.lookup(KEY) is None
    # Another key is not affected; a read begun after the invalidation may insert.
    l1.insert("other", _entry(), token)
    l1.insert(KEY, _entry(), l1.token())
    assert l1.lookup("other") is not None
    assert l1.lookup(KEY) is not None


@pytest.mark.parametrize("change", [None, [GEN]])
def test_a_flush_or_a_generation_drops_everything(change: list[str] | None) -> None:
    l1 = _active()
    token = l1.token()
    l1.insert(KEY, _entry(), token)
    l1.insert("x", _entry(), token)
    l1.invalidate(change)
    assert len(l1) == 0
    l1.insert(KEY, _entry(), token)
    assert l1.lookup(KEY) is None


def test_enable_and_disable_refuse_reads_begun_before() -> None:
    l1 = _active()
    token = l1.token()
    l1.insert(KEY, _entry(), token)
    l1.disable()
    assert not l1.active
    assert len(l1) == 0
    l1.enable()
    l1.insert(KEY, _entry(), token)
    assert l1.lookup(KEY) is None


def test_full_drops_the_oldest() -> None:
    l1 = _active(max_entries=2)
    for key in ("a", "b", "c"):
        l1.insert(key, _entry(), l1.token())
    assert [l1.lookup(k) is not None for k in ("a", "b", "c")] == [False, True, True]
    l1.insert("b", _entry(b"2"), l1.token())  # replacing evicts nothing
    assert len(l1) == 2


def test_many_invalidations_refuse_every_read_in_flight() -> None:
    l1 = _active(max_entries=2)
    l1.insert("keep", _entry(), l1.token())
    token = l1.token()
    l1.invalidate(["a", "b", "c"])  # more keys than it remembers one by one
    l1.insert("d", _entry(), token)
    assert l1.lookup("d") is None
    assert l1.lookup("keep") is not None


def test_forked_disables() -> None:
    l1 = _active()
    l1.insert(KEY, _entry(), l1.token())
    l1.forked()
    assert not l1.active
    assert len(l1) == 0


def test_serve_decodes_a_fresh_entry_each_time() -> None:
    l1 = _active()
    l1.insert(KEY, _entry(b"[1]"), l1.token())
    plan = _Plan()
    plan.codec = Codec(list[int])
    first, second = serve(l1, KEY, plan, 10.0), serve(l1, KEY, plan, 10.0)
    assert first == second == [1]
    assert first is not second


@pytest.mark.parametrize(
    ("entry", "now"),
    [(None, 1.0), (_entry(fresh_until=5.0), 5.0), (_entry(b"not json"), 1.0)],
)
def test_serve_misses(entry: Entry | None, now: float) -> None:
    l1 = _active()
    if entry is not None:
        l1.insert(KEY, entry, l1.token())
    assert serve(l1, KEY, _Plan(), now) is MISS


def test_serve_leaves_an_early_refresh_to_redis() -> None:
    l1 = _active()
    entry = _entry(b"7", fresh_until=10.0, delta=5.0)
    l1.insert(KEY, entry, l1.token())
    # The same draws as serve makes: it serves exactly when XFetch says fresh.
    for seed in range(20):
        expected = classify(entry, 9.0, 1.0, random.Random(seed))
        served = serve(l1, KEY, _Plan(seed=seed), 9.0)
        assert (served == 7) is (expected is Freshness.FRESH)
        assert (served is MISS) is (expected is not Freshness.FRESH)
    assert serve(l1, KEY, _Plan(beta=0.0), 9.9) == 7


def test_a_push_that_cannot_be_applied_disables_the_l1() -> None:
    """redis-py swallows a handler's exception: the tracker remembers it and reconnects."""
    l1 = _active()
    l1.insert(KEY, _entry(), l1.token())
    tracker = Tracker(l1, RedisConfig("redis://127.0.0.1:1/0"), prefix="p:", heartbeat=1, name="t")
    tracker._on_push([b"invalidate", [KEY.encode()]])
    assert l1.lookup(KEY) is None
    assert l1.active
    assert not tracker._broken
    l1.insert(KEY, _entry(), l1.token())
    tracker._on_push([b"invalidate", [KEY]])  # decoded replies (?decode_responses=true)
    assert l1.lookup(KEY) is None
    tracker._on_push([b"invalidate", [12]])
    assert tracker._broken
    assert not l1.active
