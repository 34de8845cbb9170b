"""Rate limits at the edge: rule names, keys, client addresses, enforcement."""

from __future__ import annotations

import pytest

from backendkit.errors import RateLimited
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.testing import FakeClock
from backendkit.web import (
    WebKit,
    aenforce_limit,
    client_key,
    enforce_limit,
    limit_key,
    route_rule,
    rule_name,
)


def test_rule_names_are_stable_and_safe() -> None:
    """Route patterns become valid, stable rule names."""
    assert rule_name("get", "/users/{id}") == "GET/users/id"
    assert rule_name("POST", "/") == "POST/root"
    assert rule_name("GET", "/a/<int:id>") == "GET/a/intid"
    assert len(rule_name("GET", "/" + "x" * 500)) == 200


def test_route_rule_is_cached() -> None:
    """The same limits and name give the same Rule object."""
    assert route_rule("5/minute", "r") is route_rule("5/minute", "r")
    with pytest.raises(ValueError, match="limit"):
        route_rule("lots", "r2")


def test_limit_keys() -> None:
    """User keys when known, else the client address."""
    assert limit_key("user", client_ip="1.2.3.4", user_id="u") == "user:u"
    assert limit_key("user", client_ip="1.2.3.4", user_id=None) == "ip:1.2.3.4"
    assert limit_key("ip", client_ip="1.2.3.4", user_id="u") == "ip:1.2.3.4"


def test_client_key_honours_trusted_proxies() -> None:
    """Only a trusted peer's forwarding header is believed; IPv6 is grouped by /64."""
    kit = WebKit.from_settings(Settings(env="test", trusted_proxies="10.0.0.0/8"))
    assert client_key(kit, peer="10.0.0.1", forwarded="203.0.113.9") == "203.0.113.9"
    assert client_key(kit, peer="198.51.100.1", forwarded="203.0.113.9") == "198.51.100.1"
    assert client_key(kit, peer="2001:db8::1", forwarded=None) == "2001:db8::/64"
    assert client_key(kit, peer=None, forwarded=None) == "unknown"


def test_enforce_limit_returns_headers_then_raises() -> None:
    """Allowed hits return headers; the denied one raises RateLimited carrying them."""
    limiter = RateLimiter("memory://", clock=FakeClock())
    rule = route_rule("1/minute", "edge-sync")
    assert enforce_limit(limiter, rule, "ip:1")["RateLimit-Remaining"] == "0"
    with pytest.raises(RateLimited) as info:
        enforce_limit(limiter, rule, "ip:1")
    assert info.value.headers["RateLimit-Limit"] == "1"
    assert int(info.value.headers["Retry-After"]) >= 1


async def test_aenforce_limit() -> None:
    """The async twin behaves the same."""
    limiter = AsyncRateLimiter("memory://", clock=FakeClock())
    rule = route_rule("1/minute", "edge-async")
    assert (await aenforce_limit(limiter, rule, "ip:1"))["RateLimit-Limit"] == "1"
    with pytest.raises(RateLimited):
        await aenforce_limit(limiter, rule, "ip:1")
