from backendkit.errors import RateLimited
from backendkit.ratelimit import RateLimiter, Rule
from backendkit.testing import FakeClock

clock = FakeClock(start=1_700_000_040.0)  # a whole minute
rule = Rule("search", "10/minute;1000/day", strategy="fixed-window")

standard = RateLimiter("memory://", clock=clock)
assert standard.hit(rule, "k").headers() == {
    "RateLimit-Limit": "10",
    "RateLimit-Remaining": "9",
    "RateLimit-Reset": "60",  # seconds until the limit is whole again
}

draft = RateLimiter("memory://", clock=clock, header_style="draft")
assert draft.hit(rule, "k").headers() == {
    "RateLimit-Policy": '"search:10/60s";q=10;w=60, "search:1000/86400s";q=1000;w=86400',
    "RateLimit": '"search:10/60s";r=9;t=60',
}

# A denial adds Retry-After; raise_if_denied() turns it into a 429 error with the headers.
for _ in range(9):
    standard.hit(rule, "k")
denied = standard.hit(rule, "k")
assert denied.headers()["Retry-After"] == "60"
try:
    denied.raise_if_denied()
except RateLimited as error:
    caught = error
assert caught.status == 429
assert caught.headers["RateLimit-Remaining"] == "0"
