"""Rate limiting: limits like ``"5/minute;100/day"``, one decision per request.

A [`RateLimiter`][backendkit.ratelimit.RateLimiter] (or its async twin) applies a
[`Rule`][backendkit.ratelimit.Rule] to a key and returns a
[`RateLimitResult`][backendkit.ratelimit.RateLimitResult] with the numbers for the
response headers. Counters live in memory (one process) or in Redis (shared by every
worker and host), where one script call decides every limit of the rule on the server's
clock, all-or-nothing. When storage fails, the failure policy decides; nothing raises
into the request.

Needs the ``ratelimit`` extra (``pip install 'backendkit[ratelimit]'``); Redis storage
also needs ``redis``.

Examples:
    >>> from backendkit.testing import FakeClock
    >>> limiter = RateLimiter("memory://", clock=FakeClock())
    >>> login = Rule("login", "3/minute;10/hour")
    >>> result = limiter.hit(login, ip_key("203.0.113.7"))
    >>> result.allowed, result.remaining, result.headers()["RateLimit-Remaining"]
    (True, 2, '2')
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("limits", "ratelimit")

from backendkit.ratelimit._headers import HeaderStyle
from backendkit.ratelimit._keys import first_key, ip_key, key_from, user_key
from backendkit.ratelimit._limiter import AsyncRateLimiter, DecisionObserver, RateLimiter
from backendkit.ratelimit._policy import FailurePolicy
from backendkit.ratelimit._result import DecisionSource, RateLimitResult
from backendkit.ratelimit._rules import Limit, Rule, Strategy

__all__ = [
    "AsyncRateLimiter",
    "DecisionObserver",
    "DecisionSource",
    "FailurePolicy",
    "HeaderStyle",
    "Limit",
    "RateLimitResult",
    "RateLimiter",
    "Rule",
    "Strategy",
    "first_key",
    "ip_key",
    "key_from",
    "user_key",
]
