from backendkit.ratelimit import RateLimiter, Rule, ip_key

limiter = RateLimiter("memory://")  # one process; use a Redis URL to share counters
login = Rule("login", "5/minute;20/hour")  # two limits, sliding window counter

key = ip_key("203.0.113.7")  # 'ip:203.0.113.7'
for _ in range(5):
    assert limiter.hit(login, key).allowed

result = limiter.hit(login, key)  # the sixth attempt this minute
assert not result.allowed
assert result.limit.amount == 5  # the per-minute limit decided
assert 0 < result.retry_after <= 120  # seconds until a retry would pass

headers = result.headers()
assert headers["RateLimit-Limit"] == "5"
assert headers["RateLimit-Remaining"] == "0"
assert int(headers["Retry-After"]) >= 1

# Peek without consuming, and forget a key (after a successful login, say).
assert not limiter.peek(login, key).allowed
limiter.reset(login, key)
assert limiter.hit(login, key).allowed
