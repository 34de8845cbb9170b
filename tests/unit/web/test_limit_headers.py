"""One set of rate-limit headers for a request that charged several rules."""

from __future__ import annotations

import pytest

from backendkit.errors import RateLimited
from backendkit.ratelimit import RateLimiter, Rule
from backendkit.testing import FakeClock
from backendkit.web import RequestCycle, enforce_limit, limit_headers, most_restrictive

PER_ADDRESS = Rule("login", "10/minute")
PER_ACCOUNT = Rule("login-account", "5/15 minutes")


def _limiter(**options: object) -> RateLimiter:
    return RateLimiter("memory://", clock=FakeClock(), **options)  # type: ignore[arg-type]


def _cycle() -> RequestCycle:
    return RequestCycle(method="POST", path="/login", request_id="r")


def test_least_remaining_decides_whatever_the_order() -> None:
    """The per-account rule (4 left) shows, charged before or after the per-address one (9)."""
    limiter = _limiter()
    address = limiter.hit(PER_ADDRESS, "ip:1")
    account = limiter.hit(PER_ACCOUNT, "acct:1")
    assert most_restrictive([address, account]) is account
    assert most_restrictive([account, address]) is account
    headers = limit_headers([address, account])
    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == ("5", "4")
    assert int(headers["RateLimit-Reset"]) > 60  # the quarter hour's, not the minute's


def test_the_other_rule_shows_once_it_has_less_left() -> None:
    """Seven logins for seven accounts from one address: the address's budget shows."""
    limiter = _limiter()
    for n in range(7):
        results = [limiter.hit(PER_ADDRESS, "ip:1"), limiter.hit(PER_ACCOUNT, f"acct:{n}")]
    headers = limit_headers(results)
    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == ("10", "3")


def test_a_tie_goes_to_the_rule_charged_first() -> None:
    """Equal remaining: the first charged decides (as ties between one rule's limits do)."""
    limiter = _limiter()
    for n in range(6):
        results = [limiter.hit(PER_ADDRESS, "ip:1"), limiter.hit(PER_ACCOUNT, f"acct:{n}")]
    assert results[0].remaining == results[1].remaining == 4
    assert most_restrictive(results) is results[0]
    assert most_restrictive(results[::-1]) is results[1]
    assert limit_headers(results)["RateLimit-Limit"] == "10"


def test_a_denial_decides() -> None:
    """On a 429 the headers are the denying rule's, even with another rule at 0 left."""
    limiter = _limiter()
    tight = Rule("tight", "1/minute")
    first = limiter.hit(tight, "k")
    assert first.remaining == 0
    for _ in range(6):
        denied = limiter.hit(PER_ACCOUNT, "acct:1")
    assert not denied.allowed
    headers = limit_headers([first, denied])
    assert headers["RateLimit-Limit"] == "5"
    assert int(headers["Retry-After"]) >= 1


def test_draft_policy_lists_every_rule_charged() -> None:
    """In the draft style RateLimit-Policy names each limit of each rule; RateLimit the chosen."""
    limiter = _limiter(header_style="draft")
    multi = Rule("default", "100/15 minutes;1000/day")
    results = [limiter.hit(multi, "ip:1"), limiter.hit(PER_ACCOUNT, "acct:1")]
    headers = limit_headers(results)
    assert headers["RateLimit-Policy"] == (
        '"default:100/900s";q=100;w=900, "default:1000/86400s";q=1000;w=86400, '
        '"login-account:5/900s";q=5;w=900'
    )
    assert headers["RateLimit"].startswith('"login-account:5/900s";r=4;t=')
    # One rule alone: its own policy only (the single-result path).
    assert limit_headers(results[1:])["RateLimit-Policy"] == '"login-account:5/900s";q=5;w=900'


def test_the_same_rule_twice_is_listed_once() -> None:
    """A rule charged twice (two keys) appears once in the draft policy."""
    limiter = _limiter(header_style="draft")
    results = [limiter.hit(PER_ACCOUNT, "acct:1"), limiter.hit(PER_ACCOUNT, "acct:2")]
    assert limit_headers(results)["RateLimit-Policy"] == '"login-account:5/900s";q=5;w=900'


def test_results_the_failure_policy_shaped_carry_no_quota() -> None:
    """fail_open counted nothing: a counted result decides; alone, no quota headers at all."""
    down = RateLimiter("redis://127.0.0.1:1/0", clock=FakeClock(), failure_policy="fail_open")
    try:
        guessed = down.hit(PER_ACCOUNT, "acct:1")
    finally:
        down.close()
    assert guessed.source == "policy"
    counted = _limiter().hit(PER_ADDRESS, "ip:1")
    assert most_restrictive([guessed, counted]) is counted
    assert limit_headers([guessed, counted])["RateLimit-Limit"] == "10"
    assert most_restrictive([guessed]) is guessed
    assert limit_headers([guessed]) == {}


def test_empty() -> None:
    """No results: no headers; most_restrictive refuses to choose from nothing."""
    assert limit_headers([]) == {}
    with pytest.raises(ValueError, match="no rate-limit results"):
        most_restrictive([])


def test_the_cycle_keeps_only_the_chosen_rules_headers() -> None:
    """A fail_closed denial after a counted rule: the 429 carries no stale quota numbers."""
    cycle = _cycle()
    enforce_limit(_limiter(), PER_ADDRESS, "ip:1", cycle)
    assert cycle.extra_headers["RateLimit-Limit"] == "10"
    closed = RateLimiter("redis://127.0.0.1:1/0", clock=FakeClock(), failure_policy="fail_closed")
    try:
        with pytest.raises(RateLimited) as info:
            enforce_limit(closed, PER_ACCOUNT, "acct:1", cycle)
    finally:
        closed.close()
    assert "RateLimit-Limit" not in info.value.headers
    assert "RateLimit-Limit" not in cycle.response_headers()
    assert int(cycle.response_headers()["Retry-After"]) >= 1


def test_enforce_limit_on_a_cycle_returns_the_merged_headers() -> None:
    """Through the cycle, each call returns (and the response gets) the merged headers."""
    cycle, limiter = _cycle(), _limiter()
    assert enforce_limit(limiter, PER_ACCOUNT, "acct:1", cycle)["RateLimit-Limit"] == "5"
    assert enforce_limit(limiter, PER_ADDRESS, "ip:1", cycle)["RateLimit-Limit"] == "5"
    assert cycle.response_headers()["RateLimit-Remaining"] == "4"
    # Without a cycle, only this rule's own headers.
    assert enforce_limit(limiter, PER_ADDRESS, "ip:1")["RateLimit-Limit"] == "10"
