"""Headers from one decision: the standard trio, the IETF draft fields, Retry-After."""

from __future__ import annotations

import pytest

from backendkit.ratelimit import RateLimiter, RateLimitResult, Rule
from backendkit.testing import FakeClock


@pytest.fixture
def limiter() -> RateLimiter:
    """A memory limiter at a whole minute."""
    return RateLimiter("memory://", clock=FakeClock(start=1_700_000_040.0))


def test_standard_headers_when_allowed(limiter: RateLimiter) -> None:
    """Allowed: limit, remaining and seconds to reset; no Retry-After."""
    result = limiter.hit(Rule("r", "5/minute", strategy="fixed-window"), "k")
    assert result.headers() == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "4",
        "RateLimit-Reset": "60",
    }


def test_standard_headers_when_denied(limiter: RateLimiter) -> None:
    """Denied: the same trio plus Retry-After in whole seconds."""
    rule = Rule("r", "1/minute", strategy="moving-window")
    limiter.hit(rule, "k")
    assert limiter.hit(rule, "k").headers() == {
        "RateLimit-Limit": "1",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "60",
        "Retry-After": "60",
    }


def test_draft_structured_fields() -> None:
    """The draft style lists every policy and reports the deciding one."""
    limiter = RateLimiter("memory://", clock=FakeClock(start=1_700_000_040.0), header_style="draft")
    result = limiter.hit(Rule("login", "5/minute;100/day", strategy="fixed-window"), "k")
    assert result.headers() == {
        "RateLimit-Policy": '"login:5/60s";q=5;w=60, "login:100/86400s";q=100;w=86400',
        "RateLimit": '"login:5/60s";r=4;t=60',
    }
    assert result.headers("standard")["RateLimit-Remaining"] == "4"


def test_retry_after_rounds_up_and_is_at_least_one(limiter: RateLimiter) -> None:
    """A wait of 0.2 s is sent as 1, 1.2 s as 2 (never 0 on a denial)."""
    rule = Rule("r", "1/second", strategy="moving-window")
    clock = FakeClock(start=1_700_000_000.0)
    limiter = RateLimiter("memory://", clock=clock)
    limiter.hit(rule, "k")
    clock.advance(0.8)
    denied = limiter.hit(rule, "k")
    assert denied.retry_after == pytest.approx(0.2)
    assert denied.headers()["Retry-After"] == "1"
    assert denied.headers()["RateLimit-Reset"] == "1"


def _policy_result(allowed: bool) -> RateLimitResult:
    rule = Rule("r", "5/minute")
    return RateLimitResult(
        allowed=allowed,
        limit=rule.limits[0],
        remaining=5 if allowed else 0,
        reset=100.0 if allowed else 103.5,
        retry_after=0.0 if allowed else 3.5,
        rule=rule,
        decided_at=100.0,
        source="policy",
    )


def test_policy_decisions_carry_no_quota_headers() -> None:
    """fail_open counted nothing: no headers; fail_closed: only Retry-After."""
    assert _policy_result(True).headers() == {}
    assert _policy_result(True).headers("draft") == {}
    assert _policy_result(False).headers() == {"Retry-After": "4"}
    assert _policy_result(False).degraded
