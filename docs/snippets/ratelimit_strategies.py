from backendkit.ratelimit import RateLimiter, Rule, Strategy
from backendkit.testing import FakeClock


def burst_at_boundary(strategy: Strategy) -> int:
    """Hits allowed in the two seconds around a minute boundary, limit 10/minute."""
    clock = FakeClock(start=1_700_000_040.0)  # a whole minute
    limiter = RateLimiter("memory://", clock=clock)
    rule = Rule("burst", "10/minute", strategy=strategy)
    clock.advance(59.0)  # one second before the boundary
    allowed = sum(limiter.hit(rule, "client").allowed for _ in range(20))
    clock.advance(1.0)  # the boundary
    allowed += sum(limiter.hit(rule, "client").allowed for _ in range(20))
    return allowed


# Fixed window: the counter restarts at the boundary, so twice the limit gets through.
assert burst_at_boundary("fixed-window") == 20
# Moving window: exact, never more than 10 in any 60 seconds.
assert burst_at_boundary("moving-window") == 10
# Sliding window counter: at the boundary the previous minute still weighs in full: 10.
assert burst_at_boundary("sliding-window-counter") == 10
