from backendkit.ratelimit import RateLimiter, Rule
from backendkit.testing import FakeClock


def test_login_is_limited_per_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter("memory://", clock=clock)  # the app under test takes this limiter
    login = Rule("login", "3/minute", strategy="moving-window")

    assert all(limiter.hit(login, "ip:192.0.2.1").allowed for _ in range(3))
    denied = limiter.hit(login, "ip:192.0.2.1")
    assert not denied.allowed

    clock.advance(denied.retry_after)  # no sleeping: move the clock
    assert limiter.hit(login, "ip:192.0.2.1").allowed


test_login_is_limited_per_minute()
