"""Cache-aside behaviour, run on every backend (memory:// and a real Redis)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import random
import threading
import uuid
from typing import Any

import pytest
from pydantic import BaseModel
from tests.integration.cache.conftest import MakeCache

from backendkit.cache import Cache, CacheResult, Outcome, cached
from backendkit.testing import FakeClock, capture_logs


class User(BaseModel):
    id: uuid.UUID
    created: datetime.datetime
    balance: decimal.Decimal
    tags: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Row:
    id: int
    when: datetime.date


def _user(n: int) -> User:
    return User(
        id=uuid.UUID(int=n),
        created=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        balance=decimal.Decimal("10.25"),
        tags=frozenset({"a", str(n)}),
    )


class Calls:
    """A loader-call counter."""

    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            self.n += 1
            return self.n


def test_first_call_loads_then_hits_with_typed_values(make_cache: MakeCache) -> None:
    """A miss loads and stores; the next call (positional or keyword) hits, same types."""
    cache = make_cache()
    calls = Calls()

    @cache.cached(ttl=60)
    def get_user(user_id: int, detail: bool = False) -> User:
        calls()
        return _user(user_id)

    first = get_user.call_detailed(1)
    second = get_user.call_detailed(user_id=1, detail=False)
    assert (first.outcome, second.outcome) == (Outcome.LOADED, Outcome.HIT)
    assert second.value == _user(1)
    assert type(second.value.id) is uuid.UUID
    assert type(second.value.balance) is decimal.Decimal
    assert type(second.value.tags) is frozenset
    assert second.value is not first.value
    assert calls.n == 1
    assert get_user(2) == _user(2)
    assert calls.n == 2
    snap = get_user.stats.snapshot()
    assert (snap.hits, snap.misses, snap.loads) == (1, 2, 2)
    assert cache.stats.snapshot().loads == 2
    assert not second.degraded
    assert not cache.degraded


@pytest.mark.parametrize(
    ("returns", "value"),
    [
        (list[Row], [Row(1, datetime.date(2024, 2, 29))]),
        (dict[str, tuple[int, uuid.UUID]], {"a": (1, uuid.UUID(int=3))}),
        (set[decimal.Decimal], {decimal.Decimal("1.10"), decimal.Decimal("2")}),
        (datetime.datetime | None, datetime.datetime(2024, 1, 1, 0, 0)),
        (bytes, b"\x00\x01raw"),
    ],
)
def test_containers_round_trip_through_the_backend(
    make_cache: MakeCache, returns: Any, value: Any
) -> None:
    """Dataclasses, tuples, sets, Decimals, naive datetimes and bytes come back as stored."""
    cache = make_cache()

    @cache.cached(ttl=60, returns=returns)
    def load() -> Any:
        return value

    load()
    result = load.call_detailed()
    assert result.outcome is Outcome.HIT
    assert result.value == value
    assert type(result.value) is type(value)


async def test_async_function_loads_once_then_hits(make_cache: MakeCache) -> None:
    """The async decorator shares keys, serialization and decisions with the sync one."""
    cache = make_cache()
    calls = Calls()

    @cache.cached(ttl=60)
    async def get_user(user_id: int) -> User:
        calls()
        return _user(user_id)

    first = await get_user.call_detailed(7)
    second = await get_user.call_detailed(user_id=7)
    assert (first.outcome, second.outcome) == (Outcome.LOADED, Outcome.HIT)
    assert await get_user(7) == _user(7)
    assert calls.n == 1
    assert await get_user.invalidate(7) is True
    assert await get_user.invalidate(7) is False
    assert (await get_user.call_detailed(7)).outcome is Outcome.LOADED
    await get_user.invalidate_all()
    assert (await get_user.call_detailed(7)).outcome is Outcome.LOADED
    assert get_user.key(7) == get_user.key(user_id=7)


class Repo:
    """A repository with cached methods; instances must not leak into keys."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.calls = Calls()


def _methods(cache: Cache) -> type[Repo]:
    class CachedRepo(Repo):
        @cache.cached(ttl=60)
        def get(self, uid: int) -> int:
            self.calls()
            return uid * 10

        @cache.cached(ttl=60, self_attr="tenant")
        def by_tenant(self, uid: int) -> str:
            self.calls()
            return f"{self.tenant}:{uid}"

        @cache.cached(ttl=60)
        async def aget(self, uid: int) -> int:
            self.calls()
            return uid * 100

    return CachedRepo


async def test_methods_exclude_self_or_key_it_by_attribute(make_cache: MakeCache) -> None:
    """Instances share entries by default; self_attr separates them; bound invalidate works."""
    cls = _methods(make_cache())
    a, b, a2 = cls("t1"), cls("t2"), cls("t1")
    assert a.get(1) == 10
    assert b.get(1) == 10
    assert (a.calls.n, b.calls.n) == (1, 0)
    assert a.by_tenant(1) == "t1:1"
    assert b.by_tenant(1) == "t2:1"
    assert a2.by_tenant(1) == "t1:1"
    assert (a.calls.n, b.calls.n, a2.calls.n) == (2, 1, 0)
    assert a.get.call_detailed(1).outcome is Outcome.HIT
    assert b.get.key(1) == a.get.key(1)
    assert a.get.invalidate(1) is True
    assert b.get.call_detailed(1).outcome is Outcome.LOADED
    assert cls.get(a, 1) == 10
    assert a.get.stats.snapshot().loads == 2
    a.get.invalidate_all()
    assert await a.aget(2) == 200
    assert await b.aget(2) == 200
    assert (await b.aget.call_detailed(2)).outcome is Outcome.HIT
    assert await a.aget.invalidate(2) is True
    assert a.aget.key(2).endswith(b.aget.key(2).rsplit(":", 1)[1])
    await a.aget.invalidate_all()
    assert a.aget.stats.snapshot().loads == 1


def test_none_is_not_cached_by_default(make_cache: MakeCache) -> None:
    """A None result is returned but not stored unless cache_none is set."""
    cache = make_cache()
    calls = Calls()

    @cache.cached(ttl=60)
    def find(uid: int) -> User | None:
        calls()
        return None

    assert find(1) is None
    assert find(1) is None
    assert calls.n == 2
    assert find.stats.snapshot().not_stored == 2


def test_none_is_cached_with_its_own_ttl(make_cache: MakeCache, fake_clock: FakeClock) -> None:
    """With cache_none, None is a hit until none_ttl passes, while values keep ttl."""
    cache = make_cache(early_recompute=0)
    calls = Calls()

    @cache.cached(ttl=60, cache_none=True, none_ttl=5)
    def find(uid: int) -> int | None:
        calls()
        return None if uid == 0 else uid

    assert find(0) is None
    assert find.call_detailed(0).outcome is Outcome.HIT
    assert find(1) == 1
    fake_clock.advance(5)
    assert find.call_detailed(0).outcome is Outcome.LOADED
    assert find.call_detailed(1).outcome is Outcome.HIT
    assert calls.n == 3


def test_condition_decides_what_is_stored(make_cache: MakeCache) -> None:
    """Only values for which condition() is true are stored."""
    cache = make_cache()
    calls = Calls()

    @cache.cached(ttl=60, condition=lambda rows: len(rows) > 0)
    def search(q: str) -> list[int]:
        calls()
        return [] if q == "none" else [1, 2]

    search("none")
    assert search.call_detailed("none").outcome is Outcome.LOADED
    search("x")
    assert search.call_detailed("x").outcome is Outcome.HIT
    assert calls.n == 3


def test_exceptions_are_never_cached(make_cache: MakeCache) -> None:
    """A raising loader propagates its exception; the next call loads again."""
    cache = make_cache()
    calls = Calls()

    @cache.cached(ttl=60)
    def flaky(uid: int) -> int:
        if calls() == 1:
            raise LookupError("db hiccup")
        return uid

    with pytest.raises(LookupError, match="db hiccup"):
        flaky(1)
    assert flaky.call_detailed(1).outcome is Outcome.LOADED
    assert flaky.call_detailed(1).outcome is Outcome.HIT
    assert calls.n == 2


def test_values_over_the_size_cap_are_not_stored(make_cache: MakeCache) -> None:
    """A value whose encoding exceeds max_value_bytes is returned, logged, and not stored."""
    cache = make_cache()

    @cache.cached(ttl=60, max_value_bytes=100)
    def blob(size: int) -> str:
        return "x" * size

    with capture_logs() as logs:
        assert blob(200) == "x" * 200
    assert blob.call_detailed(200).outcome is Outcome.LOADED
    (event,) = [e for e in logs if e["event"] == "cache_value_too_large"]
    assert event["size"] == 202
    assert event["limit"] == 100
    blob(50)
    assert blob.call_detailed(50).outcome is Outcome.HIT
    assert blob.stats.snapshot().not_stored == 2


def test_value_of_the_wrong_type_is_not_stored(make_cache: MakeCache) -> None:
    """A function returning something other than its annotation still returns it, unstored."""
    cache = make_cache()

    @cache.cached(ttl=60)
    def wrong() -> dict[str, int]:
        return {"a": "not an int"}  # type: ignore[dict-item]

    with capture_logs() as logs:
        assert wrong() == {"a": "not an int"}
    assert wrong.call_detailed().outcome is Outcome.LOADED
    assert any(e["event"] == "cache_encode_failed" for e in logs)


def test_undecodable_entry_is_a_logged_miss(make_cache: MakeCache) -> None:
    """An entry that no longer validates (shape changed) is a miss plus a warning."""
    cache = make_cache()

    @cache.cached(ttl=60, key="item:{uid}", namespace="items")
    def old(uid: int) -> str:
        return "not a number"

    @cache.cached(ttl=60, key="item:{uid}", namespace="items")
    def new(uid: int) -> int:
        return uid

    old(1)
    with capture_logs() as logs:
        result = new.call_detailed(1)
    assert result == CacheResult(1, Outcome.LOADED, False)
    (event,) = [e for e in logs if e["event"] == "cache_decode_failed"]
    assert event["key"] == new.key(1)
    assert new.call_detailed(1).outcome is Outcome.HIT


def test_ttl_and_jitter_on_the_injected_clock(make_cache: MakeCache, fake_clock: FakeClock) -> None:
    """Entries expire between ttl*(1-jitter) and ttl; never later."""
    cache = make_cache(rng=random.Random(42), early_recompute=0)

    @cache.cached(ttl=100, jitter=0.5)
    def value(n: int) -> int:
        return n

    for n in range(40):
        value(n)
    fake_clock.advance(49.9)
    assert all(value.call_detailed(n).outcome is Outcome.HIT for n in range(40))
    fake_clock.advance(25)
    outcomes = [value.call_detailed(n).outcome for n in range(20, 40)]
    assert Outcome.LOADED in outcomes
    assert Outcome.HIT in outcomes
    fake_clock.advance(25.1)
    assert all(value.call_detailed(n).outcome is Outcome.LOADED for n in range(20))


def test_xfetch_refreshes_one_caller_before_expiry(
    make_cache: MakeCache, fake_clock: FakeClock
) -> None:
    """Near expiry a slow-to-load key is refreshed early by a caller; the rest hit."""
    cache = make_cache(rng=random.Random(7))
    calls = Calls()

    @cache.cached(ttl=60)
    def slow() -> int:
        fake_clock.advance(5)  # the load "takes" 5 s: XFetch's delta
        return calls()

    slow()  # stored at t+5, fresh until t+65, delta 5
    fake_clock.advance(30)  # 30 s before expiry: P(early) = exp(-6) per call
    assert slow.call_detailed().outcome is Outcome.HIT
    fake_clock.advance(28)  # 2 s before expiry: most calls refresh early
    outcomes = [slow.call_detailed().outcome for _ in range(10)]
    assert outcomes[0] is Outcome.LOADED or Outcome.LOADED in outcomes
    assert slow.stats.snapshot().early_refreshes >= 1
    assert slow.call_detailed().value >= 2


def test_stale_entries_are_served_while_one_caller_refreshes(
    make_cache: MakeCache, fake_clock: FakeClock
) -> None:
    """Past ttl (within stale_ttl) one caller reloads and concurrent callers get STALE."""
    cache = make_cache(early_recompute=0)
    release = threading.Event()
    loading = threading.Event()
    calls = Calls()

    @cache.cached(ttl=10, stale_ttl=30)
    def page() -> int:
        n = calls()
        if n == 2:
            loading.set()
            assert release.wait(10)
        return n

    assert page() == 1
    fake_clock.advance(11)
    results: list[CacheResult[int]] = []
    refresher = threading.Thread(target=lambda: results.append(page.call_detailed()))
    refresher.start()
    assert loading.wait(10)
    stale = page.call_detailed()
    release.set()
    refresher.join()
    assert stale == CacheResult(1, Outcome.STALE, False)
    assert results[0] == CacheResult(2, Outcome.LOADED, False)
    assert page.call_detailed() == CacheResult(2, Outcome.HIT, False)
    assert page.stats.snapshot().stale_serves == 1
    fake_clock.advance(41)  # past ttl + stale_ttl: a plain miss
    assert page.call_detailed().outcome is Outcome.LOADED


def test_invalidation_one_entry_and_whole_namespace(make_cache: MakeCache) -> None:
    """invalidate() drops one entry; a namespace bump drops every function sharing it."""
    cache = make_cache()

    @cache.cached(ttl=60, namespace="users")
    def by_id(uid: int) -> int:
        return uid

    @cache.cached(ttl=60, namespace="users")
    def by_name(name: str) -> str:
        return name

    @cache.cached(ttl=60, namespace="orders")
    def order(oid: int) -> int:
        return oid

    by_id(1), by_id(2), by_name("a"), order(1)
    assert by_id.invalidate(1) is True
    assert by_id.call_detailed(1).outcome is Outcome.LOADED
    assert by_id.call_detailed(2).outcome is Outcome.HIT
    cache.invalidate_namespace("users")
    assert by_id.call_detailed(2).outcome is Outcome.LOADED
    assert by_name.call_detailed("a").outcome is Outcome.LOADED
    assert order.call_detailed(1).outcome is Outcome.HIT
    by_name.invalidate_all()
    assert by_id.call_detailed(2).outcome is Outcome.LOADED


def test_version_bump_reads_no_old_entries(make_cache: MakeCache) -> None:
    """A new version (a deploy that changed the shape) never reads the old entries."""
    cache = make_cache()

    def make(version: int) -> Any:
        @cache.cached(ttl=60, namespace="shape", version=version, key="k:{x}")
        def fn(x: int) -> int:
            return x * version

        return fn

    v1, v2 = make(1), make(2)
    assert v1(3) == 3
    assert v2.call_detailed(3) == CacheResult(6, Outcome.LOADED, False)
    assert v1.call_detailed(3).outcome is Outcome.HIT
    assert v1.key(3) != v2.key(3)


def test_custom_keys_share_entries_with_the_direct_api(make_cache: MakeCache) -> None:
    """A key template in a namespace names the same entry as Cache.get/set."""
    cache = make_cache()

    @cache.cached(ttl=60, namespace="users", key="user:{uid}")
    def get_user(uid: int) -> User:
        return _user(uid)

    get_user(5)
    assert cache.get("user:5", User, namespace="users") == _user(5)
    assert cache.set("user:6", _user(60), ttl=60, namespace="users") is True
    assert get_user.call_detailed(6) == CacheResult(_user(60), Outcome.HIT, False)
    assert cache.delete("user:6", namespace="users") is True
    assert get_user(6) == _user(6)


def test_callable_key_and_ignored_arguments(make_cache: MakeCache) -> None:
    """A key callable and ignore= both control which calls share entries."""
    cache = make_cache()

    @cache.cached(ttl=60, key=lambda uid, session=None: f"u{uid}")
    def by_callable(uid: int, session: object = None) -> int:
        return uid

    @cache.cached(ttl=60, ignore=("session",))
    def by_ignore(uid: int, session: object = None) -> int:
        return uid

    by_callable(1, object())
    assert by_callable.call_detailed(1, object()).outcome is Outcome.HIT
    by_ignore(1, object())
    assert by_ignore.call_detailed(1, session=object()).outcome is Outcome.HIT


def test_direct_api(make_cache: MakeCache, fake_clock: FakeClock) -> None:
    """get/set/delete with types, TTL, default and namespaces."""
    cache = make_cache()
    assert cache.get("k", int) is None
    assert cache.get("k", int, default=-1) == -1
    assert cache.set("k", {"a": [1]}, ttl=10, returns=dict[str, list[int]]) is True
    assert cache.get("k", dict[str, list[int]]) == {"a": [1]}
    assert cache.get("k", int) is None  # wrong type: undecodable, a miss
    assert cache.set("u", _user(1), ttl=10) is True  # returns defaults to type(value)
    assert cache.get("u", User) == _user(1)
    assert cache.set("big", "x" * 2_000_000, ttl=10) is False
    assert cache.set("bad", object(), ttl=10) is False
    fake_clock.advance(10)
    assert cache.get("u", User) is None
    cache.set("n", 1, ttl=10, namespace="other")
    assert cache.get("n", int) is None
    assert cache.get("n", int, namespace="other") == 1
    cache.invalidate_namespace("other")
    assert cache.get("n", int, namespace="other") is None
    assert cache.delete("n", namespace="other") in (True, False)
    with pytest.raises(ValueError, match="non-empty"):
        cache.get("", int)


async def test_async_direct_api(make_cache: MakeCache) -> None:
    """aget/aset/adelete/ainvalidate_namespace mirror the sync API."""
    cache = make_cache()
    assert await cache.aget("k", User) is None
    assert await cache.aset("k", _user(2), ttl=10) is True
    assert await cache.aget("k", User) == _user(2)
    assert await cache.aset("big", "x" * 2_000_000, ttl=10) is False
    assert await cache.adelete("k") is True
    assert await cache.aget("k", User, default=_user(0)) == _user(0)
    await cache.aset("k", 1, ttl=10)
    await cache.ainvalidate_namespace("default")
    assert await cache.aget("k", int) is None


def test_module_level_decorator(make_cache: MakeCache) -> None:
    """cached(cache, ttl) is the same as cache.cached(ttl)."""
    cache = make_cache()

    @cached(cache, 60)
    def f(x: int) -> int:
        return x

    f(1)
    assert f.call_detailed(1).outcome is Outcome.HIT
    assert f.cache is cache
    assert f.policy.ttl == 60
    assert f.namespace.endswith("test_module_level_decorator.<locals>.f")
    assert f.version == "1"
    assert f.__name__ == "f"
