"""Building a Cache (URLs, options, settings) and decorator configuration errors."""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from typing import Any

import pytest

from backendkit.cache import Cache, CacheResult, Outcome, cached
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.testing import FakeClock


def test_memory_url_options() -> None:
    """memory:// takes max_entries; the default bound is 10 000."""
    assert Cache("memory://?max_entries=5")._runtime.memory.max_entries == 5  # type: ignore[union-attr]
    assert Cache()._runtime.memory.max_entries == 10_000  # type: ignore[union-attr]
    assert Cache("memory://").is_memory
    assert "memory" in repr(Cache())


@pytest.mark.parametrize(
    "url",
    [
        "memory://?max_entries=0",
        "memory://?max_entries=abc",
        "memory://?size=3",
        "memory://host",
        "memory:///path",
        "ftp://x",
        "redis://h:notaport",
    ],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    """Unknown options, hosts on memory://, bad schemes and bad Redis URLs fail at start-up."""
    with pytest.raises(ConfigurationError):
        Cache(url)
    Cache("memory://?max_entries=3")


def test_backend_of_the_wrong_type_is_refused() -> None:
    """Only URLs, RedisConfig and connectors are backends."""
    with pytest.raises(ConfigurationError, match="not int"):
        Cache(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [
        {"key_prefix": "a b"},
        {"lock_ttl": 0},
        {"lock_wait": -1},
        {"max_value_bytes": 0},
        {"early_recompute": -1.0},
    ],
)
def test_bad_cache_options(options: dict[str, Any]) -> None:
    """Invalid cache-wide defaults are configuration errors."""
    with pytest.raises(ConfigurationError):
        Cache(**options)
    Cache(key_prefix="")


def test_from_settings_without_redis_is_memory() -> None:
    """No BACKENDKIT_REDIS_URL: an in-process cache."""
    cache = Cache.from_settings(Settings(env="test"))
    assert cache.is_memory
    assert Cache.from_url("memory://?max_entries=2").is_memory


def test_from_settings_with_redis_uses_its_timeouts() -> None:
    """With a Redis URL the settings' timeouts and breaker reach the connector config."""
    settings = Settings(env="test", redis_url="redis://127.0.0.1:1/0", redis_command_timeout=0.5)
    cache = Cache.from_settings(settings, key_prefix="x:")
    assert not cache.is_memory
    assert cache._runtime.config is not None
    assert cache._runtime.config.command_timeout == 0.5
    assert "redis://127.0.0.1:1/0" in repr(cache)


def test_decorator_configuration_errors() -> None:
    """Generators, wrapped descriptors and bad options are refused when decorating."""
    cache = Cache()

    def gen() -> Any:
        yield 1

    async def agen() -> Any:
        yield 1

    with pytest.raises(ConfigurationError, match="generator"):
        cache.cached(ttl=1)(gen)
    with pytest.raises(ConfigurationError, match="generator"):
        cache.cached(ttl=1)(agen)
    with pytest.raises(ConfigurationError, match="below @staticmethod"):
        cache.cached(ttl=1)(staticmethod(lambda: 1))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        cache.cached(ttl=0)
    with pytest.raises(ConfigurationError):
        cache.cached(ttl=1, jitter=2)
    with pytest.raises(ConfigurationError):
        cache.cached(ttl=1, namespace="a{b}")
    with pytest.raises(ConfigurationError):
        cache.cached(ttl=1, version="1 2")


def test_return_annotation_is_required_or_returns_given() -> None:
    """Without an annotation (or returns=) the first call explains what to do."""
    cache = Cache()

    @cache.cached(ttl=1)
    def bare():  # type: ignore[no-untyped-def]
        return 1

    with pytest.raises(ConfigurationError, match="no return annotation"):
        bare()

    @cache.cached(ttl=1, returns=int)
    def given():  # type: ignore[no-untyped-def]
        return 1

    assert given() == 1

    @cache.cached(ttl=1)
    def unresolved() -> DoesNotExist:  # type: ignore[name-defined]  # noqa: F821
        return 1

    with pytest.raises(ConfigurationError, match="returns="):
        unresolved()


def test_wrapper_looks_like_the_function() -> None:
    """Name, docstring, signature and __wrapped__ are the original's; repr names it."""
    cache = Cache()

    @cache.cached(ttl=1)
    def documented(a: int, b: str = "x") -> int:
        """Docs."""
        return a

    @cache.cached(ttl=1)
    async def adocumented(a: int) -> int:
        return a

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."
    assert list(inspect.signature(documented).parameters) == ["a", "b"]
    assert "documented" in repr(documented)
    assert "async" in repr(adocumented)
    assert asyncio.iscoroutinefunction(adocumented) or inspect.iscoroutinefunction(
        adocumented.__call__
    )


def test_leader_exception_reaches_in_process_followers() -> None:
    """Concurrent callers of a failing load all see its exception; nothing is cached."""
    cache = Cache()
    entered, release = threading.Event(), threading.Event()
    calls = []

    @cache.cached(ttl=60)
    def boom() -> int:
        calls.append(1)
        entered.set()
        assert release.wait(10)
        raise KeyError("gone")

    errors: list[BaseException] = []

    def call() -> None:
        try:
            boom()
        except KeyError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(5)]
    threads[0].start()
    assert entered.wait(10)
    for t in threads[1:]:
        t.start()
    key = boom.key()
    while cache._runtime.flights.waiters(key) < 4:
        threading.Event().wait(0.001)
    release.set()
    for t in threads:
        t.join()
    assert len(errors) == 5
    assert calls == [1]


async def test_cancelled_async_leader_hands_over_to_a_follower() -> None:
    """Cancelling the loading task does not fail its followers: one of them loads."""
    cache = Cache()
    started = asyncio.Event()
    calls = []

    @cache.cached(ttl=60)
    async def slow() -> int:
        calls.append(1)
        if len(calls) == 1:
            started.set()
            await asyncio.sleep(60)
        return len(calls)

    leader = asyncio.create_task(slow.call_detailed())
    await started.wait()
    followers = [asyncio.create_task(slow.call_detailed()) for _ in range(3)]
    key = slow.key()
    while cache._runtime.aflights.waiters(key) < 3:  # noqa: ASYNC110 - polling a probe
        await asyncio.sleep(0)
    leader.cancel()
    results = await asyncio.gather(*followers)
    with pytest.raises(asyncio.CancelledError):
        await leader
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.LOADED) == 1  # one follower took over the load
    assert all(o in (Outcome.LOADED, Outcome.SHARED, Outcome.HIT) for o in outcomes)
    assert {r.value for r in results} == {2}
    assert len(calls) == 2


def test_memory_cache_is_bounded() -> None:
    """A full memory cache evicts the least recently used entries."""
    cache = Cache("memory://?max_entries=3", clock=FakeClock())

    @cache.cached(ttl=60)
    def f(x: int) -> int:
        return x

    for x in range(10):
        f(x)
    # 3 slots: the namespace generation plus the two most recent entries.
    assert f.call_detailed(9).outcome is Outcome.HIT
    assert f.call_detailed(0).outcome is Outcome.LOADED


def test_callables_without_a_name_need_a_key() -> None:
    """A functools.partial has no qualified name: refused unless key= names its entries."""
    cache = Cache()

    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(ConfigurationError, match="key="):
        cached(cache, 1, returns=int)(functools.partial(add, b=1))
    inc = cached(cache, 1, returns=int, key="inc:{a}", namespace="p")(functools.partial(add, b=1))
    assert inc(1) == 2
    assert inc.call_detailed(1) == CacheResult(2, Outcome.HIT, False)
