"""State machines, one per strategy, against the memory backend on a fake clock.

Each machine replays random hits, peeks and clock moves, keeps its own record of the
hits that were allowed, and checks after every step:

* the strategy's own guarantee, over the allowed hits -
  fixed window: at most N units in any aligned window;
  moving window: at most N units in any window of that length;
  sliding window counter: its weighted estimate never exceeds N;
* exactness both ways: a hit is allowed if and only if it fits under every limit by
  that strategy's own rule (so the limiter never lets too much through, and never
  refuses what fits), and a denied hit is charged to no limit.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from tests.unit.ratelimit.strategies import COSTS, STEPS, rules

from backendkit.ratelimit import RateLimiter, Rule
from backendkit.testing import FakeClock

START_MS = 1_700_000_000_000


class _LimiterMachine(RuleBasedStateMachine):
    """Shared driving code; subclasses define `fits` and `guarantee_holds` per strategy."""

    rule_under_test: Rule

    def __init__(self) -> None:
        super().__init__()
        self.now = START_MS
        self.clock = FakeClock(start=START_MS / 1000)
        self.limiter = RateLimiter("memory://", clock=self.clock)
        self.hits: list[tuple[int, int]] = []  # (ms, cost) of every allowed hit

    def setup(self, rule_under_test: Rule) -> None:
        self.rule_under_test = rule_under_test

    # -- the model ---------------------------------------------------------------
    def fits(self, amount: int, window: int, cost: int) -> bool:  # pragma: no cover
        raise NotImplementedError

    def guarantee_holds(self, amount: int, window: int) -> bool:  # pragma: no cover
        raise NotImplementedError

    def in_range(self, start: int, end: int) -> int:
        """Units charged at times in [start, end)."""
        return sum(cost for at, cost in self.hits if start <= at < end)

    # -- the steps ---------------------------------------------------------------
    @rule(step=STEPS)
    def advance(self, step: int) -> None:
        self.now += step
        self.clock.set(self.now / 1000)

    @rule(cost=COSTS)
    def hit(self, cost: int) -> None:
        expected = all(
            self.fits(limit.amount, limit.window_ms, cost) for limit in self.rule_under_test.limits
        )
        result = self.limiter.hit(self.rule_under_test, "k", cost=cost)
        assert result.allowed == expected
        if result.allowed:
            self.hits.append((self.now, cost))

    @rule(cost=COSTS)
    def peek(self, cost: int) -> None:
        expected = all(
            self.fits(limit.amount, limit.window_ms, cost) for limit in self.rule_under_test.limits
        )
        assert self.limiter.peek(self.rule_under_test, "k", cost=cost).allowed == expected

    @invariant()
    def clock_in_step(self) -> None:
        assert round(self.clock.now() * 1000) == self.now

    @invariant()
    def guarantee(self) -> None:
        if not hasattr(self, "rule_under_test"):
            return
        for limit in self.rule_under_test.limits:
            assert self.guarantee_holds(limit.amount, limit.window_ms)


class FixedWindowMachine(_LimiterMachine):
    """Fixed window: at most N per aligned window."""

    @initialize(rule_under_test=rules("fixed-window"))
    def init(self, rule_under_test: Rule) -> None:
        self.setup(rule_under_test)

    def fits(self, amount: int, window: int, cost: int) -> bool:
        start = self.now - self.now % window
        return self.in_range(start, start + window) + cost <= amount

    def guarantee_holds(self, amount: int, window: int) -> bool:
        starts = {at - at % window for at, _ in self.hits}
        return all(self.in_range(start, start + window) <= amount for start in starts)


class MovingWindowMachine(_LimiterMachine):
    """Moving window: at most N in any window of that length (checked at every hit,
    where the sums peak)."""

    @initialize(rule_under_test=rules("moving-window"))
    def init(self, rule_under_test: Rule) -> None:
        self.setup(rule_under_test)

    def fits(self, amount: int, window: int, cost: int) -> bool:
        return self.in_range(self.now - window + 1, self.now + 1) + cost <= amount

    def guarantee_holds(self, amount: int, window: int) -> bool:
        return all(self.in_range(at - window + 1, at + 1) <= amount for at, _ in self.hits)


class SlidingWindowCounterMachine(_LimiterMachine):
    """Sliding window counter: the weighted estimate never exceeds N (checked at every
    allowed hit and at the current time)."""

    @initialize(rule_under_test=rules("sliding-window-counter"))
    def init(self, rule_under_test: Rule) -> None:
        self.setup(rule_under_test)

    def estimate(self, at: int, window: int) -> Fraction:
        start = at - at % window
        previous = self.in_range(start - window, start)
        # Hits at the same ms as `at` but recorded later are not in the estimate at that
        # hit's moment; sum only those recorded up to it (the list is in time order).
        current = self.in_range(start, at + 1)
        return previous * Fraction(window - (at - start), window) + current

    def fits(self, amount: int, window: int, cost: int) -> bool:
        return self.estimate(self.now, window) + cost <= amount

    def guarantee_holds(self, amount: int, window: int) -> bool:
        times = {at for at, _ in self.hits} | {self.now}
        return all(self.estimate(at, window) <= amount for at in times)


_SETTINGS = settings(max_examples=60, stateful_step_count=40)

TestFixedWindow = FixedWindowMachine.TestCase
TestFixedWindow.settings = _SETTINGS
TestMovingWindow = MovingWindowMachine.TestCase
TestMovingWindow.settings = _SETTINGS
TestSlidingWindowCounter = SlidingWindowCounterMachine.TestCase
TestSlidingWindowCounter.settings = _SETTINGS
