"""Policy validation, TTL jitter and the XFetch/stale classification."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from backendkit.cache._early import Freshness, classify
from backendkit.cache._policy import Policy, seconds
from backendkit.cache._serde import Entry
from backendkit.errors import ConfigurationError


def test_seconds_accepts_numbers_and_timedeltas() -> None:
    """Durations may be numbers or timedeltas."""
    assert seconds(5, "ttl") == 5.0
    assert seconds(timedelta(minutes=2), "ttl") == 120.0
    assert seconds(0, "stale_ttl", allow_zero=True) == 0.0


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "5", True, None])
def test_seconds_refuses_bad_durations(bad: Any) -> None:
    """Zero, negative, infinite, NaN and non-numbers are refused."""
    with pytest.raises(ConfigurationError):
        seconds(bad, "ttl")


@pytest.mark.parametrize(
    "kwargs",
    [{"jitter": 1.0}, {"jitter": -0.1}, {"early_recompute": -1}, {"max_value_bytes": 0}],
)
def test_policy_refuses_bad_options(kwargs: dict[str, Any]) -> None:
    """Out-of-range jitter, beta or size cap are configuration errors."""
    with pytest.raises(ConfigurationError):
        Policy(ttl=1, **kwargs)
    Policy(ttl=1, jitter=0.5, early_recompute=2, max_value_bytes=1)


def test_jitter_stays_within_ttl_and_spreads() -> None:
    """Jittered TTLs fall in [ttl*(1-jitter), ttl] and are not all equal."""
    policy = Policy(ttl=100, jitter=0.2)
    rng = random.Random(1)
    ttls = [policy.fresh_ttl(False, rng) for _ in range(200)]
    assert all(80 <= t <= 100 for t in ttls)
    assert len(set(ttls)) > 100
    assert Policy(ttl=100).fresh_ttl(False, rng) == 100


def test_none_ttl_applies_to_none_results() -> None:
    """A stored None uses none_ttl; other values use ttl."""
    policy = Policy(ttl=100, cache_none=True, none_ttl=5)
    rng = random.Random(0)
    assert policy.fresh_ttl(True, rng) == 5
    assert policy.fresh_ttl(False, rng) == 100
    assert Policy(ttl=100, cache_none=True).fresh_ttl(True, rng) == 100


def _entry(fresh_until: float, delta: float) -> Entry:
    return Entry(b"g", fresh_until, delta, b"1")


def test_classify_fresh_stale_and_early() -> None:
    """Past expiry is stale; far from expiry is fresh; close to it refreshes sometimes."""
    rng = random.Random(3)
    assert classify(_entry(100, 1), 100, 1.0, rng) is Freshness.STALE
    assert classify(_entry(100, 1), 50, 1.0, rng) is Freshness.FRESH
    near = [classify(_entry(100, 1.0), 99.5, 1.0, rng) for _ in range(1000)]
    early = near.count(Freshness.EARLY)
    # P(early) = P(-ln U >= 0.5) = e^-0.5 ~ 0.61
    assert 450 < early < 750


def test_xfetch_disabled_by_beta_zero_or_instant_loads() -> None:
    """beta=0 or a zero load time never refreshes early."""
    rng = random.Random(3)
    assert all(classify(_entry(100, 1), 99.99, 0.0, rng) is Freshness.FRESH for _ in range(100))
    assert all(classify(_entry(100, 0), 99.99, 1.0, rng) is Freshness.FRESH for _ in range(100))
