from backendkit.ratelimit import RateLimiter, Rule, user_key
from backendkit.testing import FakeClock

limiter = RateLimiter("memory://", clock=FakeClock())
export = Rule("export", "100/hour;10/minute", strategy="fixed-window")
alice = user_key(42)  # 'user:42'

# A big export costs 8 units, a small one 1.
assert limiter.hit(export, alice, cost=8).remaining == 2  # 10/minute is the tightest
denied = limiter.hit(export, alice, cost=8)
assert not denied.allowed
assert denied.limit.window == 60  # denied by 10/minute ...

# ... and, all-or-nothing, not charged to 100/hour either: only the first 8 count there.
assert limiter.hit(export, alice, cost=2).allowed
assert limiter.peek(export, alice).remaining == 0  # this minute is used up

# A cost larger than a limit never fits: always denied, nothing charged.
assert not limiter.hit(export, user_key(7), cost=11).allowed
assert limiter.peek(export, user_key(7)).remaining == 10
