"""RateLimiter on the memory backend: hits, peeks, resets, windows, costs, all-or-nothing."""

from __future__ import annotations

import threading

import pytest

from backendkit.errors import ConfigurationError, RateLimited
from backendkit.ratelimit import RateLimiter, Rule
from backendkit.settings import Settings
from backendkit.testing import FakeClock

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at a whole minute, so aligned windows start now."""
    return FakeClock(start=1_700_000_040.0)  # divisible by 60


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    """A memory limiter on the fake clock."""
    return RateLimiter("memory://", clock=clock)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_allows_exactly_the_limit_then_denies(limiter: RateLimiter, strategy: str) -> None:
    """N hits pass, the next is denied with a positive retry_after and 0 remaining."""
    rule = Rule("r", "3/minute", strategy=strategy)  # type: ignore[arg-type]
    results = [limiter.hit(rule, "k") for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results] == [2, 1, 0, 0]
    assert results[-1].retry_after > 0
    assert results[0].retry_after == 0.0
    assert not results[0].degraded
    assert results[0].source == "storage"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_window_resets_when_the_clock_moves(
    limiter: RateLimiter, clock: FakeClock, strategy: str
) -> None:
    """After waiting retry_after the key may hit again; one millisecond earlier it may not."""
    rule = Rule("r", "2/minute", strategy=strategy)  # type: ignore[arg-type]
    limiter.hit(rule, "k")
    clock.advance(10)
    limiter.hit(rule, "k")
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    clock.advance(denied.retry_after - 0.001)
    assert not limiter.peek(rule, "k").allowed
    clock.advance(0.001)
    assert limiter.hit(rule, "k").allowed


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cost_counts_several_units(limiter: RateLimiter, strategy: str) -> None:
    """A hit of cost 3 takes three units; a cost that no longer fits is denied uncharged."""
    rule = Rule("r", "5/minute", strategy=strategy)  # type: ignore[arg-type]
    first = limiter.hit(rule, "k", cost=3)
    assert (first.allowed, first.remaining) == (True, 2)
    second = limiter.hit(rule, "k", cost=3)
    assert (second.allowed, second.remaining) == (False, 2)
    third = limiter.hit(rule, "k", cost=2)
    assert (third.allowed, third.remaining) == (True, 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cost_above_the_amount_is_always_denied(limiter: RateLimiter, strategy: str) -> None:
    """A cost larger than the limit can never fit: denied, one window to wait, nothing charged."""
    rule = Rule("r", "5/minute", strategy=strategy)  # type: ignore[arg-type]
    result = limiter.hit(rule, "k", cost=6)
    assert not result.allowed
    assert result.retry_after == 60.0
    assert limiter.peek(rule, "k").remaining == 5


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_all_or_nothing_across_limits(
    limiter: RateLimiter, clock: FakeClock, strategy: str
) -> None:
    """A hit denied by the second limit is not charged against the first."""
    rule = Rule("r", "5/minute;2/second", strategy=strategy)  # type: ignore[arg-type]
    assert limiter.hit(rule, "k").allowed
    assert limiter.hit(rule, "k").allowed
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    assert denied.limit.window == 1  # the per-second limit decided
    clock.advance(2)
    # The per-minute limit saw exactly the two allowed hits: three more fit.
    allowed = limiter.hit(rule, "k")
    assert allowed.allowed
    assert limiter.peek(rule, "k").remaining == 1  # per-second: 1 left, per-minute: 2 left


def test_the_deciding_limit_is_the_tightest(limiter: RateLimiter) -> None:
    """Allowed: the limit with the fewest units left; denied: the one with the longest wait."""
    rule = Rule("r", "3/second;4/minute", strategy="fixed-window")
    assert limiter.hit(rule, "k").limit.window == 1  # 2 left vs 3 left
    limiter.hit(rule, "k")
    assert limiter.hit(rule, "k").limit.window == 1  # 0 left vs 1 left
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    assert denied.limit.window == 1


def test_denied_by_several_limits_reports_the_longest_wait(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    """When two limits deny, the one that frees up last decides."""
    rule = Rule("r", "1/second;1/minute", strategy="fixed-window")
    limiter.hit(rule, "k")
    denied = limiter.hit(rule, "k")
    assert denied.limit.window == 60
    assert denied.retry_after == 60.0


def test_peek_does_not_consume(limiter: RateLimiter) -> None:
    """Peeking any number of times leaves the count unchanged."""
    rule = Rule("r", "2/minute")
    for _ in range(5):
        peeked = limiter.peek(rule, "k")
        assert (peeked.allowed, peeked.remaining) == (True, 2)
    limiter.hit(rule, "k")
    assert limiter.peek(rule, "k").remaining == 1
    assert not limiter.peek(rule, "k", cost=2).allowed
    assert limiter.peek(rule, "k", cost=1).allowed


def test_reset_forgets_a_key(limiter: RateLimiter) -> None:
    """reset() restores the full amount for that key only."""
    rule = Rule("r", "1/minute")
    limiter.hit(rule, "a")
    limiter.hit(rule, "b")
    assert limiter.reset(rule, "a") is True
    assert limiter.hit(rule, "a").allowed
    assert not limiter.hit(rule, "b").allowed


def test_rules_and_keys_never_share_counters(limiter: RateLimiter) -> None:
    """Two rules with the same limits, and two keys under one rule, count separately."""
    login, signup = Rule("login", "1/minute"), Rule("signup", "1/minute")
    assert limiter.hit(login, "ip:1").allowed
    assert limiter.hit(signup, "ip:1").allowed
    assert limiter.hit(login, "ip:2").allowed
    assert not limiter.hit(login, "ip:1").allowed


def test_a_redefined_rule_starts_fresh(limiter: RateLimiter) -> None:
    """Same name with other limits or strategy never misreads the old counters."""
    limiter.hit(Rule("r", "1/minute"), "k")
    assert limiter.hit(Rule("r", "1/minute;5/hour"), "k").allowed
    assert limiter.hit(Rule("r", "1/minute", strategy="fixed-window"), "k").allowed


def test_reset_and_remaining_figures_per_strategy(limiter: RateLimiter) -> None:
    """reset is when the quota resets (tests/unit/ratelimit/test_reset_meaning.py);
    reset_after is measured from the decision."""
    start = 1_700_000_040.0
    fixed = limiter.hit(Rule("f", "2/minute", strategy="fixed-window"), "k")
    assert fixed.reset == start + 60
    assert fixed.reset_after == 60.0
    moving = limiter.hit(Rule("m", "2/minute", strategy="moving-window"), "k")
    assert moving.reset == start + 60
    sliding = limiter.hit(Rule("s", "2/minute"), "k")
    # The window's end: from then on the hit only weighs, decaying, as the previous window.
    assert sliding.reset == start + 60
    assert sliding.decided_at == start


def test_untouched_key_is_whole_now(limiter: RateLimiter) -> None:
    """A peek on a fresh key: full amount, reset is now."""
    for strategy in STRATEGIES:
        peeked = limiter.peek(Rule("p", "3/minute", strategy=strategy), "fresh")  # type: ignore[arg-type]
        assert peeked.remaining == 3
        assert peeked.reset == peeked.decided_at


def test_sliding_counter_weighs_the_previous_window(limiter: RateLimiter, clock: FakeClock) -> None:
    """Half-way into the next window, half of the previous window still counts."""
    rule = Rule("s", "4/minute")
    for _ in range(4):
        assert limiter.hit(rule, "k").allowed
    clock.advance(90)  # 30 s into the next window: weight of the previous = 0.5
    peeked = limiter.peek(rule, "k")
    assert peeked.remaining == 2
    assert limiter.hit(rule, "k", cost=2).allowed
    denied = limiter.hit(rule, "k")
    assert not denied.allowed
    # 4 * (1 - e/60) + 2 + 1 <= 4  <=>  e >= 45 s: 15 s from now.
    assert denied.retry_after == 15.0


def test_moving_window_frees_units_one_by_one(limiter: RateLimiter, clock: FakeClock) -> None:
    """Each unit leaves the moving window exactly one window after it was charged."""
    rule = Rule("m", "2/minute", strategy="moving-window")
    limiter.hit(rule, "k")
    clock.advance(20)
    limiter.hit(rule, "k")
    denied = limiter.hit(rule, "k")
    assert denied.retry_after == 40.0
    assert denied.reset == 1_700_000_040.0 + 60  # the oldest hit leaves: 40 s, as retry_after
    clock.advance(40)
    assert limiter.peek(rule, "k").remaining == 1


def test_bad_calls_raise_programming_errors(limiter: RateLimiter) -> None:
    """Empty keys, costs below 1 and non-rules are programming errors (they raise)."""
    rule = Rule("r", "1/minute")
    with pytest.raises(ValueError, match="non-empty"):
        limiter.hit(rule, "")
    for cost in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="cost"):
            limiter.hit(rule, "k", cost=cost)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Rule"):
        limiter.hit("r", "k")  # type: ignore[arg-type]
    assert limiter.hit(rule, "k", cost=1).allowed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"failure_policy": "ignore"}, "failure policy"),
        ({"header_style": "x-ratelimit"}, "header style"),
        ({"key_prefix": "a{b}"}, "key_prefix"),
        ({"failure_retry_after": 0}, "failure_retry_after"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, object], match: str) -> None:
    """Unknown policies, header styles, braces in prefixes and bad waits fail at start-up."""
    with pytest.raises(ConfigurationError, match=match):
        RateLimiter("memory://", **kwargs)  # type: ignore[arg-type]


def test_unknown_storage_is_refused() -> None:
    """Only memory:// and Redis URLs, configs and connectors are storages."""
    with pytest.raises(ConfigurationError, match="unsupported rate-limit storage"):
        RateLimiter("memcached://localhost")
    with pytest.raises(ConfigurationError, match="needs memory://"):
        RateLimiter(42)  # type: ignore[arg-type]
    assert not RateLimiter("memory://").is_shared


def test_from_settings_without_redis_is_memory() -> None:
    """No redis_url in settings: an in-memory limiter with the given options."""
    limiter = RateLimiter.from_settings(Settings(env="test"), failure_policy="fail_closed")
    assert not limiter.is_shared
    assert limiter.failure_policy == "fail_closed"
    assert "memory" in repr(limiter)
    limiter.close()


def test_raise_if_denied(limiter: RateLimiter) -> None:
    """A denial raises RateLimited carrying Retry-After and the rate-limit headers."""
    rule = Rule("r", "1/minute", strategy="fixed-window")
    limiter.hit(rule, "k").raise_if_denied()  # allowed: nothing raised
    with pytest.raises(RateLimited) as info:
        limiter.hit(rule, "k").raise_if_denied()
    assert info.value.status == 429
    assert info.value.headers["Retry-After"] == "60"
    assert info.value.headers["RateLimit-Remaining"] == "0"


def test_result_repr_names_the_decision(limiter: RateLimiter) -> None:
    """The repr shows the decision and the rule."""
    text = repr(limiter.hit(Rule("r", "1/minute"), "k"))
    assert "allowed=True" in text
    assert "rule='r'" in text


def test_threads_sharing_a_memory_limiter_get_exactly_n(clock: FakeClock) -> None:
    """Many threads hitting one key at once: exactly N allowed."""
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("r", "25/minute")
    threads, per_thread = 8, 10
    barrier = threading.Barrier(threads)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        mine = [limiter.hit(rule, "k").allowed for _ in range(per_thread)]
        with lock:
            allowed.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert sum(allowed) == 25
