"""Properties of every result: retry_after, remaining and reset are exact, per strategy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.ratelimit.strategies import COSTS, STEPS, rules

from backendkit.ratelimit import RateLimiter, Rule, Strategy
from backendkit.testing import FakeClock

START_MS = 1_700_000_000_000
ALL: list[Strategy] = ["fixed-window", "moving-window", "sliding-window-counter"]


def _history(limiter: RateLimiter, clock: FakeClock, rule: Rule, ops: list[tuple[int, int]]) -> int:
    now = START_MS
    for step, cost in ops:
        now += step
        clock.set(now / 1000)
        limiter.hit(rule, "k", cost=cost)
    return now


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=150)
@given(data=st.data(), ops=st.lists(st.tuples(STEPS, COSTS), max_size=25), cost=COSTS)
def test_retry_after_is_exact(
    strategy: Strategy, data: st.DataObject, ops: list[tuple[int, int]], cost: int
) -> None:
    """Denied: one ms before retry_after a hit of that cost is still denied; at it, allowed."""
    rule = data.draw(rules(strategy))
    clock = FakeClock(start=START_MS / 1000)
    limiter = RateLimiter("memory://", clock=clock)
    now = _history(limiter, clock, rule, ops)
    result = limiter.peek(rule, "k", cost=cost)
    if result.allowed:
        assert result.retry_after == 0
        return
    wait = round(result.retry_after * 1000)
    assert wait >= 1
    if cost > min(limit.amount for limit in rule.limits):
        return  # never fits: the bounded answer is one window, nothing to check
    clock.set((now + wait - 1) / 1000)
    assert not limiter.peek(rule, "k", cost=cost).allowed
    clock.set((now + wait) / 1000)
    assert limiter.peek(rule, "k", cost=cost).allowed


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=150)
@given(data=st.data(), ops=st.lists(st.tuples(STEPS, COSTS), max_size=25))
def test_remaining_is_the_largest_cost_that_fits(
    strategy: Strategy, data: st.DataObject, ops: list[tuple[int, int]]
) -> None:
    """An allowed peek's remaining fits as a cost; one more does not."""
    rule = data.draw(rules(strategy))
    clock = FakeClock(start=START_MS / 1000)
    limiter = RateLimiter("memory://", clock=clock)
    _history(limiter, clock, rule, ops)
    result = limiter.peek(rule, "k")
    if not result.allowed:
        assert result.remaining == 0 or len(rule.limits) > 1
        return
    assert limiter.peek(rule, "k", cost=result.remaining).allowed
    assert not limiter.peek(rule, "k", cost=result.remaining + 1).allowed


@settings(max_examples=150)
@given(data=st.data(), ops=st.lists(st.tuples(STEPS, COSTS), min_size=1, max_size=25))
def test_fixed_window_reset_is_when_the_limit_is_whole_again(
    data: st.DataObject, ops: list[tuple[int, int]]
) -> None:
    """Fixed window, single limit: at reset the full amount is back; one ms earlier it is
    not. (The other strategies' reset: tests/unit/ratelimit/test_reset_meaning.py.)"""
    strategy: Strategy = "fixed-window"
    rule = data.draw(rules(strategy, max_limits=1))
    amount = rule.limits[0].amount
    clock = FakeClock(start=START_MS / 1000)
    limiter = RateLimiter("memory://", clock=clock)
    now = _history(limiter, clock, rule, ops)
    result = limiter.peek(rule, "k")
    reset = round(result.reset * 1000)
    if reset == now:
        assert result.remaining == amount
        return
    assert result.remaining <= amount
    clock.set((reset - 1) / 1000)
    assert limiter.peek(rule, "k").remaining < amount
    clock.set(reset / 1000)
    assert limiter.peek(rule, "k").remaining == amount
