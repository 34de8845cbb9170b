"""A rule's own failure policy overrides its limiter's while the storage is down."""

from __future__ import annotations

import pytest
from tests._services import DeadPort

from backendkit.ratelimit import AsyncRateLimiter, RateLimiter, Rule
from backendkit.testing import FakeClock
from backendkit.web import route_rule


def _rules() -> tuple[Rule, Rule, Rule]:
    limits = "3/minute"
    return (
        Rule("login", limits, failure_policy="local_fallback"),
        Rule("register", limits, failure_policy="fail_closed"),
        Rule("search", limits),  # the limiter's policy
    )


def test_rule_policies_override_a_fail_open_limiter(down_redis_url: str) -> None:
    """fail_open limiter: the local_fallback rule still counts, the fail_closed one denies."""
    limiter = RateLimiter(down_redis_url, clock=FakeClock(), failure_policy="fail_open")
    login, register, search = _rules()
    try:
        login_results = [limiter.hit(login, "ip:1") for _ in range(4)]
        assert [r.allowed for r in login_results] == [True, True, True, False]
        assert {r.source for r in login_results} == {"fallback"}
        closed = limiter.hit(register, "ip:1")
        assert (closed.allowed, closed.source) == (False, "policy")
        assert closed.retry_after > 0
        # The twin: a rule without its own policy follows the limiter (fail open).
        assert all(limiter.hit(search, "ip:1").allowed for _ in range(5))
    finally:
        limiter.close()


async def test_async_rule_policies_override_a_fail_open_limiter(down_redis_url: str) -> None:
    """The async limiter applies a rule's policy the same way."""
    limiter = AsyncRateLimiter(down_redis_url, clock=FakeClock(), failure_policy="fail_open")
    login, register, search = _rules()
    try:
        allowed = [(await limiter.hit(login, "ip:1")).allowed for _ in range(4)]
        assert allowed == [True, True, True, False]
        assert not (await limiter.hit(register, "ip:1")).allowed
        assert (await limiter.hit(search, "ip:1")).allowed
    finally:
        await limiter.aclose()


def test_a_rule_can_fail_open_under_a_fail_closed_limiter() -> None:
    """Overrides go both ways: a fail_open rule under a fail_closed limiter is allowed."""
    dead = DeadPort()
    limiter = RateLimiter(dead.url, clock=FakeClock(), failure_policy="fail_closed")
    try:
        assert limiter.hit(Rule("feed", "1/minute", failure_policy="fail_open"), "k").allowed
        assert not limiter.hit(Rule("feed", "1/minute"), "k").allowed
    finally:
        limiter.close()
        dead.close()


def test_policies_are_validated_and_part_of_the_rule() -> None:
    """An unknown policy is refused; rules differing only in policy are not equal."""
    with pytest.raises(ValueError, match="failure policy"):
        Rule("x", "1/minute", failure_policy="retry")  # type: ignore[arg-type]
    a = Rule("x", "1/minute", failure_policy="fail_closed")
    assert a != Rule("x", "1/minute")
    assert a == Rule("x", "1/minute", failure_policy="fail_closed")
    assert hash(a) == hash(Rule("x", "1/minute", failure_policy="fail_closed"))
    assert "fail_closed" in repr(a)
    assert "failure_policy" not in repr(Rule("x", "1/minute"))
    assert route_rule("1/minute", "x", "fail_closed") == a
    assert route_rule("1/minute", "x").failure_policy is None


def test_a_healthy_storage_ignores_the_policy() -> None:
    """On working storage the policy changes nothing (memory here)."""
    limiter = RateLimiter("memory://", clock=FakeClock())
    rule = Rule("login", "1/minute", failure_policy="fail_closed")
    first, second = limiter.hit(rule, "k"), limiter.hit(rule, "k")
    assert (first.allowed, first.source, second.allowed) == (True, "storage", False)
