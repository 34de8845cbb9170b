"""On Redis too, a tie between a rule's limits goes to the limit listed first.

The script returns every limit's numbers and the shared ``choose`` picks the one to report
(tests/unit/ratelimit/test_decision_ties.py holds it on memory). ``10/minute;10/hour``
after one hit has 9 left in both: the minute is reported, so ``RateLimit-Reset`` is the
minute's. A cost above both amounts of ``2/minute;3/minute`` waits one window on each: the
first limit is reported. Both facts hold at any point of the real clock.
"""

from __future__ import annotations

import pytest

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule

STRATEGIES = ["fixed-window", "moving-window", "sliding-window-counter"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ties_report_the_first_limit(redis_url: str, redis_prefix: str, strategy: str) -> None:
    """Sync limiter: the first-listed limit on an allowed tie and on a denied tie."""
    limiter = RateLimiter(redis_url, key_prefix=redis_prefix)
    try:
        rule = Rule("tie", "10/minute;10/hour", strategy=strategy)  # type: ignore[arg-type]
        allowed = limiter.hit(rule, "k")
        assert (allowed.allowed, allowed.remaining, allowed.source) == (True, 9, "storage")
        assert allowed.limit is rule.limits[0]
        assert 0 < allowed.reset_after <= 120
        assert 0 < int(allowed.headers("standard")["RateLimit-Reset"]) <= 120
        assert limiter.peek(rule, "k").limit is rule.limits[0]
        costly = Rule("tie2", "2/minute;3/minute", strategy=strategy)  # type: ignore[arg-type]
        denied = limiter.hit(costly, "k", cost=5)
        assert (denied.allowed, denied.retry_after) == (False, 60.0)
        assert denied.limit is costly.limits[0]
        assert denied.headers("standard")["RateLimit-Limit"] == "2"
    finally:
        limiter.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_async_ties_report_the_first_limit(
    redis_url: str, redis_prefix: str, strategy: str
) -> None:
    """Async limiter: the same choice through the same script."""
    limiter = AsyncRateLimiter(redis_url, key_prefix=redis_prefix)
    try:
        rule = Rule("tie", "10/minute;10/hour", strategy=strategy)  # type: ignore[arg-type]
        allowed = await limiter.hit(rule, "k")
        assert allowed.limit is rule.limits[0]
        assert 0 < allowed.reset_after <= 120
        costly = Rule("tie2", "2/minute;3/minute", strategy=strategy)  # type: ignore[arg-type]
        denied = await limiter.hit(costly, "k", cost=5)
        assert not denied.allowed
        assert denied.limit is costly.limits[0]
    finally:
        await limiter.aclose()
