"""Key helpers: namespaced kinds, IPv6 grouped by /64, any callable."""

from __future__ import annotations

import pytest

from backendkit.ratelimit import first_key, ip_key, key_from, user_key


def test_ip_key_groups_ipv6_and_keeps_ipv4() -> None:
    """IPv4 stays whole; IPv6 is grouped by /64 unless told otherwise."""
    assert ip_key("203.0.113.7") == "ip:203.0.113.7"
    assert ip_key("2001:db8:0:1:ffff::1") == "ip:2001:db8:0:1::/64"
    assert ip_key("2001:db8:0:1:ffff::1", ipv6_prefix=128) == "ip:2001:db8:0:1:ffff::1"
    assert ip_key("203.0.113.7", ipv4_prefix=24) == "ip:203.0.113.0/24"


def test_ip_key_without_an_address() -> None:
    """No usable address: one shared `ip:unknown` counter; non-IP text passes through."""
    assert ip_key(None) == "ip:unknown"
    assert ip_key("") == "ip:unknown"
    assert ip_key("testclient") == "ip:testclient"


def test_user_key() -> None:
    """Users are keyed by id; anonymous requests get no user key."""
    assert user_key(42) == "user:42"
    assert user_key("alice") == "user:alice"
    assert user_key(None) is None
    assert user_key("") is None


def test_key_from_namespaces_any_callable() -> None:
    """A callable's value is namespaced; None or empty means no key."""
    by_tenant = key_from(lambda request: request.get("tenant"), namespace="tenant")
    assert by_tenant({"tenant": "acme"}) == "tenant:acme"
    assert by_tenant({}) is None
    assert by_tenant({"tenant": ""}) is None


@pytest.mark.parametrize("namespace", ["", "has space", "a:b", "x" * 51])
def test_key_from_rejects_bad_namespaces(namespace: str) -> None:
    """Namespaces that could collide with the separator are refused."""
    with pytest.raises(ValueError, match="namespace"):
        key_from(str, namespace=namespace)


def test_first_key_falls_back_in_order() -> None:
    """The first function giving a key wins; none gives None."""
    by_user = key_from(lambda r: r.get("user"), namespace="user")
    by_ip = key_from(lambda r: r.get("ip"), namespace="ip")
    key = first_key(by_user, by_ip)
    assert key({"user": 7, "ip": "192.0.2.1"}) == "user:7"
    assert key({"ip": "192.0.2.1"}) == "ip:192.0.2.1"
    assert key({}) is None


def test_kinds_never_collide() -> None:
    """An IP key and a user id that look alike are different keys."""
    assert ip_key("1.2.3.4") != user_key("1.2.3.4")
