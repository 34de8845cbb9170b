"""The Lua script and the memory backend decide identically, number for number.

Both stores get the same time from one fake clock (the Redis store's test seam sends it
instead of letting the script read TIME) and the same sequence of hits and peeks; every
reply - decision, remaining, reset and wait for every limit - must be equal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.ratelimit.strategies import STEPS, rules

from backendkit.ratelimit import Rule, Strategy
from backendkit.ratelimit._memory import MemoryStore
from backendkit.ratelimit._redis import AsyncRedisStore, RedisStore
from backendkit.redis import AsyncRedisConnector, RedisConnector
from backendkit.testing import FakeClock

START_MS = 1_700_000_000_000
ALL: list[Strategy] = ["fixed-window", "moving-window", "sliding-window-counter"]


@pytest.fixture
def connector(redis_url: str) -> Iterator[RedisConnector]:
    """A sync connector with a generous timeout (this test is about arithmetic)."""
    from backendkit.redis import RedisConfig

    conn = RedisConnector(RedisConfig(redis_url, command_timeout=5.0))
    yield conn
    conn.close()


SCRIPTED: list[tuple[str, int, int]] = [
    # (operation, ms to advance first, cost)
    ("hit", 0, 1),
    ("hit", 10, 2),
    ("peek", 0, 1),
    ("hit", 250, 1),
    ("hit", 0, 3),
    ("hit", 740, 1),
    ("peek", 1, 2),
    ("hit", 999, 1),
    ("hit", 1, 2),
    ("hit", 1500, 4),
    ("hit", 0, 1),
    ("reset", 0, 0),
    ("hit", 0, 2),
    ("hit", 61_000, 1),
    ("hit", 30_000, 2),
    ("hit", 3_600_000, 1),
]


@pytest.mark.parametrize("strategy", ALL)
def test_scripted_sequence_agrees(
    connector: RedisConnector, redis_prefix: str, strategy: Strategy
) -> None:
    """A fixed sequence over several windows and limits: identical replies."""
    rule = Rule("agree", "3/second;5/minute;9/hour", strategy=strategy)
    clock = FakeClock(start=START_MS / 1000)
    memory = MemoryStore(clock)
    remote = RedisStore(connector, redis_prefix, clock=clock)
    now = START_MS
    for op, step, cost in SCRIPTED:
        now += step
        clock.set(now / 1000)
        if op == "reset":
            memory.clear(rule, "k")
            remote.clear(rule, "k")
            continue
        charge = op == "hit"
        assert remote.run(rule, "k", cost, charge) == memory.run(rule, "k", cost, charge), (
            op,
            now,
        )


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    ops=st.lists(st.tuples(st.booleans(), STEPS, st.integers(1, 7)), min_size=1, max_size=30),
)
def test_random_sequences_agree(
    connector: RedisConnector,
    redis_prefix: str,
    strategy: Strategy,
    data: st.DataObject,
    ops: list[tuple[bool, int, int]],
) -> None:
    """Random hits, peeks and clock moves: identical replies from both backends."""
    rule = data.draw(rules(strategy, max_limits=3))
    key = uuid.uuid4().hex  # fresh per example: Redis keeps state between examples
    clock = FakeClock(start=START_MS / 1000)
    memory = MemoryStore(clock)
    remote = RedisStore(connector, redis_prefix, clock=clock)
    now = START_MS
    for charge, step, cost in ops:
        now += step
        clock.set(now / 1000)
        assert remote.run(rule, key, cost, charge) == memory.run(rule, key, cost, charge)


async def test_async_store_agrees(redis_url: str, redis_prefix: str) -> None:
    """The async store sends the same script and gets the same replies."""
    connector = AsyncRedisConnector(redis_url)
    rule = Rule("agree-async", "2/second;4/minute", strategy="sliding-window-counter")
    clock = FakeClock(start=START_MS / 1000)
    memory = MemoryStore(clock)
    remote = AsyncRedisStore(connector, redis_prefix, clock=clock)
    now = START_MS
    for op, step, cost in SCRIPTED:
        now += step
        clock.set(now / 1000)
        if op == "reset":
            memory.clear(rule, "k")
            await remote.clear(rule, "k")
            continue
        charge = op == "hit"
        assert await remote.run(rule, "k", cost, charge) == memory.run(rule, "k", cost, charge)
    await connector.aclose()


def test_costs_beyond_the_lua_unpack_limit(connector: RedisConnector, redis_prefix: str) -> None:
    """A moving-window cost of thousands of units is pushed in chunks and agrees."""
    rule = Rule("big", "5000/hour", strategy="moving-window")
    clock = FakeClock(start=START_MS / 1000)
    memory = MemoryStore(clock)
    remote = RedisStore(connector, redis_prefix, clock=clock)
    for cost in (4500, 600, 500):
        assert remote.run(rule, "k", cost, True) == memory.run(rule, "k", cost, True)
