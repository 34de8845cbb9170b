import socket

from backendkit.ratelimit import RateLimiter, Rule
from backendkit.testing import FakeClock

rule = Rule("login", "2/minute")

# A port where nothing listens stands in for a Redis that is down.
with socket.socket() as placeholder:
    placeholder.bind(("127.0.0.1", 0))
    url = f"redis://127.0.0.1:{placeholder.getsockname()[1]}/0"

    # fail_open (default): the request goes through; no quota headers are invented.
    open_limiter = RateLimiter(url)
    result = open_limiter.hit(rule, "ip:198.51.100.23")
    assert result.allowed
    assert result.source == "policy"
    assert result.headers() == {}

    # fail_closed: denied, Retry-After = the breaker's cooldown (5 s by default).
    closed = RateLimiter(url, failure_policy="fail_closed")
    result = closed.hit(rule, "ip:198.51.100.23")
    assert not result.allowed
    assert result.headers() == {"Retry-After": "5"}

    # local_fallback: counted in this process until Redis answers again.
    local = RateLimiter(url, failure_policy="local_fallback", clock=FakeClock())
    results = [local.hit(rule, "ip:198.51.100.23") for _ in range(3)]
    assert [r.allowed for r in results] == [True, True, False]
    assert {r.source for r in results} == {"fallback"}

    # The breaker opened on the first failure: later calls do not even try to connect.
    assert local.connector is not None
    assert local.connector.breaker.state.value == "open"

    # A rule's own policy overrides its limiter's: credentials never fail open.
    login = Rule("login-guard", "2/minute", failure_policy="local_fallback")
    guarded = [open_limiter.hit(login, "ip:198.51.100.23") for _ in range(3)]
    assert [r.allowed for r in guarded] == [True, True, False]
    assert open_limiter.hit(rule, "ip:198.51.100.23").allowed  # the limiter's fail_open
