"""Key helpers: who a limit counts against, namespaced so kinds never collide.

A key says *who* (``ip:203.0.113.7``, ``user:42``); the limiter adds *which rule* and the
storage prefix. The kind prefix keeps an IP key and a user id that happen to look alike
from sharing a counter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from backendkit.clientip import ip_group

__all__ = ["first_key", "ip_key", "key_from", "user_key"]

T = TypeVar("T")

_NAMESPACE = re.compile(r"[A-Za-z0-9_.\-]{1,50}")


def ip_key(address: str | None, *, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> str:
    """Key by client address: ``ip:<address>``, IPv6 grouped by /64 by default.

    Pass the address from a [`ClientIPResolver`][backendkit.clientip.ClientIPResolver]
    (never a raw ``X-Forwarded-For``). ``None`` (no usable address) gives ``ip:unknown``:
    such clients share one counter, which errs on the side of limiting.

    Examples:
        >>> ip_key("203.0.113.7")
        'ip:203.0.113.7'
        >>> ip_key("2001:db8:0:1::99")
        'ip:2001:db8:0:1::/64'
        >>> ip_key(None)
        'ip:unknown'
    """
    if not address:
        return "ip:unknown"
    return "ip:" + ip_group(address, ipv4_prefix=ipv4_prefix, ipv6_prefix=ipv6_prefix)


def user_key(user_id: object) -> str | None:
    """Key by authenticated user: ``user:<id>``, or ``None`` for an anonymous request.

    Examples:
        >>> user_key(42)
        'user:42'
        >>> user_key(None) is None
        True
    """
    if user_id is None or user_id == "":
        return None
    return f"user:{user_id}"


def key_from(fn: Callable[[T], object], *, namespace: str) -> Callable[[T], str | None]:
    """Key by anything: wrap ``fn(request)`` so its value becomes ``<namespace>:<value>``.

    ``fn`` returning ``None`` (or ``""``) gives ``None``: no key for this request.

    Raises:
        ValueError: ``namespace`` is not 1-50 letters, digits or ``_ . -``.

    Examples:
        >>> by_tenant = key_from(lambda request: request["tenant"], namespace="tenant")
        >>> by_tenant({"tenant": "acme"})
        'tenant:acme'
    """
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"invalid key namespace {namespace!r}")

    def key(request: T) -> str | None:
        value = fn(request)
        if value is None or value == "":
            return None
        return f"{namespace}:{value}"

    return key


def first_key(*fns: Callable[[T], str | None]) -> Callable[[T], str | None]:
    """Combine key functions: the first one that gives a key wins.

    Examples:
        >>> by_user = key_from(lambda r: r.get("user"), namespace="user")
        >>> by_ip = key_from(lambda r: r["ip"], namespace="ip")
        >>> key = first_key(by_user, by_ip)
        >>> (key({"user": 7, "ip": "192.0.2.1"}), key({"ip": "192.0.2.1"}))
        ('user:7', 'ip:192.0.2.1')
    """

    def key(request: T) -> str | None:
        for fn in fns:
            value = fn(request)
            if value:
                return value
        return None

    return key
