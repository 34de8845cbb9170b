"""Ties between a rule's limits go to the limit listed first, allowed or denied.

``choose`` picks the limit a response reports: allowed, the one with the fewest units left;
denied, the denying one with the longest wait. When several are equal the first listed
decides (its docstring says so), which is what makes ``10/minute;10/hour`` report the
minute: ``RateLimit-Reset`` of at most two minutes, not the hour's. These tests hold the
tie on ``choose`` itself and through the memory limiters, for every strategy; the Redis
twin is tests/integration/ratelimit/test_decision_ties_redis.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.ratelimit._decision import choose
from backendkit.testing import FakeClock

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]
NOW = 1_700_000_040_000  # ms, a whole minute but not a whole hour


def _reply(allowed: bool, *limits: tuple[int, int, int, int]) -> list[int]:
    """``[now, allowed, ok_1, remaining_1, reset_1, retry_1, ...]``."""
    reply = [NOW, 1 if allowed else 0]
    for stat in limits:
        reply.extend(stat)
    return reply


def _ok(remaining: int, reset: int = NOW + 60_000) -> tuple[int, int, int, int]:
    return (1, remaining, reset, 0)


def _denied(retry: int, remaining: int = 0) -> tuple[int, int, int, int]:
    return (0, remaining, NOW + retry, retry)


# --------------------------------------------------------------------------- choose


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (_reply(True, _ok(9), _ok(9)), 0),
        (_reply(True, _ok(9), _ok(9), _ok(9)), 0),
        (_reply(True, _ok(5), _ok(3), _ok(3)), 1),
        (_reply(True, _ok(3), _ok(5), _ok(3)), 0),
        (_reply(True, _ok(0), _ok(0)), 0),
    ],
    ids=["two-equal", "three-equal", "tie-after-first", "tie-around", "both-empty"],
)
def test_allowed_tie_goes_to_the_first_listed(reply: list[int], expected: int) -> None:
    """Equal ``remaining``: the first of the tied limits (fails if ``<`` becomes ``<=``)."""
    assert choose(reply) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (_reply(False, _denied(60_000), _denied(60_000)), 0),
        (_reply(False, _ok(5), _denied(30_000), _denied(30_000)), 1),
        (_reply(False, _denied(10_000), _denied(50_000), _denied(50_000)), 1),
        (_reply(False, _denied(50_000), _ok(1), _denied(50_000)), 0),
    ],
    ids=["two-equal", "after-an-ok-limit", "tie-after-first", "around-an-ok-limit"],
)
def test_denied_tie_goes_to_the_first_listed(reply: list[int], expected: int) -> None:
    """Equal waits among denying limits: the first of them (fails if ``>`` becomes ``>=``)."""
    assert choose(reply) == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (_reply(True, _ok(5), _ok(3)), 1),
        (_reply(True, _ok(2), _ok(7)), 0),
        (_reply(False, _denied(10_000), _denied(20_000)), 1),
        (_reply(False, _ok(1), _denied(20_000)), 1),
        (_reply(False, _denied(20_000), _ok(1)), 0),
    ],
)
def test_without_a_tie_the_most_restrictive_decides(reply: list[int], expected: int) -> None:
    """The twins: fewest left when allowed, longest wait among the denying when denied."""
    assert choose(reply) == expected


def _expected(reply: Sequence[int]) -> int:
    n = (len(reply) - 2) // 4
    stats = [reply[2 + 4 * i : 6 + 4 * i] for i in range(n)]
    if reply[1]:
        low = min(stat[1] for stat in stats)
        return next(i for i, stat in enumerate(stats) if stat[1] == low)
    denying = [i for i, stat in enumerate(stats) if not stat[0]]
    longest = max(stats[i][3] for i in denying)
    return next(i for i in denying if stats[i][3] == longest)


_small = st.integers(min_value=0, max_value=3)  # few values: ties are common


@settings(deadline=None, max_examples=300)
@given(
    allowed=st.booleans(),
    stats=st.lists(st.tuples(st.booleans(), _small, _small), min_size=1, max_size=5),
)
def test_choose_is_the_first_of_the_best(allowed: bool, stats: list[tuple[bool, int, int]]) -> None:
    """Any reply: the index is the first limit among those that are best."""
    if not allowed and all(ok for ok, _, _ in stats):
        stats[0] = (False, stats[0][1], stats[0][2])  # a denial has a denying limit
    limits = [
        (1, remaining, NOW, 0) if allowed or ok else (0, remaining, NOW + wait, wait)
        for ok, remaining, wait in stats
    ]
    reply = _reply(allowed, *limits)
    assert choose(reply) == _expected(reply)


# --------------------------------------------------------------------------- the limiters


@pytest.fixture
def clock() -> FakeClock:
    """A whole minute that is not a whole hour: the hour's reset is far from the minute's."""
    return FakeClock(start=NOW / 1000)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_equal_remaining_reports_the_first_limit(clock: FakeClock, strategy: str) -> None:
    """``10/minute;10/hour``: 9 left in both after one hit; the minute is reported."""
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("tie", "10/minute;10/hour", strategy=strategy)  # type: ignore[arg-type]
    result = limiter.hit(rule, "k")
    assert (result.allowed, result.remaining) == (True, 9)
    assert result.limit is rule.limits[0]
    assert result.limit.window == 60
    assert 0 < result.reset_after <= 120  # the minute's reset (sliding: up to two windows)
    assert 0 < int(result.headers("standard")["RateLimit-Reset"]) <= 120
    peeked = limiter.peek(rule, "k")
    assert peeked.limit is rule.limits[0]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_equal_waits_report_the_first_denying_limit(clock: FakeClock, strategy: str) -> None:
    """A cost above both amounts waits one window on each: the first limit is reported."""
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("tie", "2/minute;3/minute", strategy=strategy)  # type: ignore[arg-type]
    result = limiter.hit(rule, "k", cost=5)
    assert not result.allowed
    assert result.retry_after == 60.0
    assert result.limit is rule.limits[0]
    assert (result.limit.amount, result.remaining) == (2, 2)
    assert result.headers("standard")["RateLimit-Limit"] == "2"


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_async_limiter_breaks_ties_the_same_way(clock: FakeClock, strategy: str) -> None:
    """AsyncRateLimiter on memory: the same first-listed limit, allowed and denied."""
    limiter = AsyncRateLimiter("memory://", clock=clock)
    rule = Rule("tie", "10/minute;10/hour", strategy=strategy)  # type: ignore[arg-type]
    allowed = await limiter.hit(rule, "k")
    assert allowed.limit is rule.limits[0]
    assert 0 < allowed.reset_after <= 120
    costly = Rule("tie2", "2/minute;3/minute", strategy=strategy)  # type: ignore[arg-type]
    denied = await limiter.hit(costly, "k", cost=5)
    assert not denied.allowed
    assert denied.limit is costly.limits[0]
