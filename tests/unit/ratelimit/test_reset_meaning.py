"""RateLimit-Reset and Retry-After, per strategy, on a fake clock.

``RateLimit-Reset`` is the number of seconds until the quota resets, as the IETF draft
defines it: the end of the current window (fixed window, sliding window counter) or the
moment the oldest counted hit leaves the window (moving window). It is never more than
one window away, except on a sliding-counter denial that must wait past the window's end;
a denial's ``Retry-After`` is never later than its ``RateLimit-Reset``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.ratelimit.strategies import COSTS, STEPS, rules

from backendkit.ratelimit import RateLimiter, Rule, Strategy
from backendkit.testing import FakeClock

HOUR_START = 1_699_999_200.0  # a whole hour (and so a whole minute)
MINUTE_START = 1_700_000_040.0
ALL: list[Strategy] = ["fixed-window", "moving-window", "sliding-window-counter"]


def reset_of(headers: dict[str, str]) -> int:
    return int(headers["RateLimit-Reset"])


@pytest.mark.parametrize("strategy", ALL)
def test_first_hit_on_an_hourly_limit_resets_within_the_hour(strategy: Strategy) -> None:
    """The first hit of 20/hour, 1662 s into the hour: Reset is what is left of the
    window (fixed, sliding counter) or one window (moving), never more than 3600."""
    clock = FakeClock(start=HOUR_START + 1662)
    limiter = RateLimiter("memory://", clock=clock)
    headers = limiter.hit(Rule("register", "20/hour", strategy=strategy), "ip:1").headers()
    expected = 3600 if strategy == "moving-window" else 3600 - 1662
    assert reset_of(headers) == expected
    assert headers["RateLimit-Remaining"] == "19"


def test_sliding_counter_denial_reads_retry_after_within_reset() -> None:
    """The reported login case (10/minute, sliding counter): one hit late in a window,
    nine 30 s into the next, and a tenth at 34 s is denied (the earlier window still
    weighs). Before: Retry-After 26 beside RateLimit-Reset 86. Now the reset is the
    window's end, 26 s away, and Retry-After is within it."""
    clock = FakeClock(start=MINUTE_START + 50)
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("login", "10/minute")
    assert limiter.hit(rule, "k").allowed
    clock.set(MINUTE_START + 60 + 30)
    for _ in range(9):
        assert limiter.hit(rule, "k").allowed
    clock.set(MINUTE_START + 60 + 34)
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    headers = denied.headers()
    assert reset_of(headers) == 26
    assert headers["Retry-After"] == "26"


def test_sliding_counter_denial_past_the_window_end() -> None:
    """10 hits in the first second of a window fill it alone: the next hit fits only 6 s
    into the next window (10 * (1 - 6/60) + 1 <= 10). Retry-After says 64 s, and so does
    RateLimit-Reset: a client is never told the quota resets before it may retry."""
    clock = FakeClock(start=MINUTE_START + 1)
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("login", "10/minute")
    for _ in range(10):
        limiter.hit(rule, "k")
    clock.set(MINUTE_START + 2)
    denied = limiter.hit(rule, "k")
    assert denied.retry_after == 64.0
    assert denied.headers()["Retry-After"] == denied.headers()["RateLimit-Reset"] == "64"
    clock.set(MINUTE_START + 66)
    assert limiter.hit(rule, "k").allowed  # valid twin: at Retry-After it fits


def test_fixed_window_resets_at_the_window_end() -> None:
    """3/minute fixed: every response of the window says the seconds to its end, and a
    denial's Retry-After equals it."""
    clock = FakeClock(start=MINUTE_START + 10)
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("f", "3/minute", strategy="fixed-window")
    assert reset_of(limiter.hit(rule, "k").headers()) == 50
    clock.advance(20)
    limiter.hit(rule, "k")
    limiter.hit(rule, "k")
    denied = limiter.hit(rule, "k").headers()
    assert denied["Retry-After"] == denied["RateLimit-Reset"] == "30"
    clock.set(MINUTE_START + 60)
    assert limiter.peek(rule, "k").remaining == 3  # at the reset the quota is whole


def test_moving_window_resets_when_the_oldest_hit_leaves() -> None:
    """3/minute moving: hits at 0, 10 and 20 s. At 30 s the reset is 30 s away (the hit
    at 0 leaves at 60), and a denial's Retry-After says the same; after it, the next
    oldest hit (10 s) decides."""
    clock = FakeClock(start=MINUTE_START)
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("m", "3/minute", strategy="moving-window")
    for _ in range(3):
        limiter.hit(rule, "k")
        clock.advance(10)
    denied = limiter.hit(rule, "k").headers()
    assert denied["Retry-After"] == denied["RateLimit-Reset"] == "30"
    clock.set(MINUTE_START + 60)
    allowed = limiter.hit(rule, "k")
    assert allowed.allowed
    assert reset_of(allowed.headers()) == 10


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=150, deadline=None)
@given(data=st.data(), ops=st.lists(st.tuples(STEPS, COSTS), max_size=25), cost=COSTS)
def test_reset_is_within_a_window_and_never_before_retry_after(
    strategy: Strategy, data: st.DataObject, ops: list[tuple[int, int]], cost: int
) -> None:
    """Every result: reset no later than one window (for a sliding-counter denial: no
    later than retry_after); a denial's retry_after no later than its reset."""
    rule = data.draw(rules(strategy))
    start = 1_700_000_000_000
    clock = FakeClock(start=start / 1000)
    limiter = RateLimiter("memory://", clock=clock)
    now = start
    for step, hit_cost in ops:
        now += step
        clock.set(now / 1000)
        limiter.hit(rule, "k", cost=hit_cost)
    result = limiter.peek(rule, "k", cost=cost)
    window = result.limit.window * 1000
    reset_ms = round(result.reset * 1000) - now
    retry_ms = round(result.retry_after * 1000)
    assert reset_ms >= 0
    assert retry_ms <= reset_ms
    if result.allowed or strategy != "sliding-window-counter":
        assert reset_ms <= window
    else:
        assert reset_ms <= max(window, retry_ms)


@pytest.mark.parametrize("strategy", ALL)
@settings(max_examples=150, deadline=None)
@given(data=st.data(), ops=st.lists(st.tuples(STEPS, COSTS), min_size=1, max_size=25))
def test_at_reset_the_quota_has_reset(
    strategy: Strategy, data: st.DataObject, ops: list[tuple[int, int]]
) -> None:
    """Single limit, allowed peek: one ms before reset nothing has come back yet; at reset
    units have come back (fixed: all of them; moving: at least the oldest hit's; sliding
    counter: at least the previous window's weight is gone, so no fewer units)."""
    rule = data.draw(rules(strategy, max_limits=1))
    amount = rule.limits[0].amount
    start = 1_700_000_000_000
    clock = FakeClock(start=start / 1000)
    limiter = RateLimiter("memory://", clock=clock)
    now = start
    for step, cost in ops:
        now += step
        clock.set(now / 1000)
        limiter.hit(rule, "k", cost=cost)
    result = limiter.peek(rule, "k")
    reset = round(result.reset * 1000)
    if reset == now:
        assert result.remaining == amount
        return
    clock.set(reset / 1000)
    at_reset = limiter.peek(rule, "k").remaining
    if strategy == "fixed-window":
        assert at_reset == amount
    elif strategy == "moving-window":
        clock.set((reset - 1) / 1000)
        assert limiter.peek(rule, "k").remaining == result.remaining
        assert at_reset > result.remaining
    else:
        assert at_reset >= result.remaining
        if result.allowed:  # a denial may have to wait past it (see above)
            assert reset % (rule.limits[0].window * 1000) == 0  # a window boundary
