"""Rate limits at the HTTP edge: rules per route, keys per client or user, headers.

The limiter itself ([`backendkit.ratelimit`][backendkit.ratelimit]) decides; this module
only names the rule, picks the key and turns the decision into headers or a ``429``.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Literal

from backendkit.errors import RateLimited
from backendkit.web._cycle import RequestCycle
from backendkit.web._kit import WebKit

if TYPE_CHECKING:
    from backendkit.ratelimit import (
        AsyncRateLimiter,
        FailurePolicy,
        RateLimiter,
        RateLimitResult,
        Rule,
    )

__all__ = [
    "KeyKind",
    "aenforce_limit",
    "client_key",
    "enforce_limit",
    "limit_key",
    "route_rule",
    "rule_name",
]

#: What a per-route limit is keyed by: the client address, or the authenticated user.
KeyKind = Literal["ip", "user"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]+")


def rule_name(method: str, route: str) -> str:
    """A stable rule name for a route: ``"GET /users/{id}"`` -> ``"GET/users/id"``.

    Every worker derives the same name from the same route, so they share counters.
    """
    cleaned = _UNSAFE.sub("", route).strip("/") or "root"
    return f"{method.upper()}/{cleaned}"[:200]


@functools.lru_cache(maxsize=1024)
def route_rule(limits: str, name: str, failure_policy: FailurePolicy | None = None) -> Rule:
    """The [`Rule`][backendkit.ratelimit.Rule] for ``limits`` under ``name`` (built once).

    ``failure_policy`` overrides the limiter's while its storage is down (``None``: the
    limiter's own).

    Raises:
        ValueError: an unparsable limit string, an invalid name or an unknown policy.
    """
    # Imported here: the web core works without the ratelimit extra until a limit is used.
    from backendkit.ratelimit import Rule

    return Rule(name, limits, failure_policy=failure_policy)


def client_key(kit: WebKit, *, peer: str | None, forwarded: str | None) -> str:
    """The client address for rate-limit keys, behind ``kit``'s trusted proxies.

    IPv6 addresses are grouped by /64 (one subscriber owns a whole /64); a request
    without a usable address gives ``"unknown"``.

    Args:
        kit: the web kit (its ``ip_resolver``).
        peer: the TCP peer address (``REMOTE_ADDR``, the ASGI ``client``).
        forwarded: the value of ``kit.ip_resolver.header_name`` (``X-Forwarded-For`` by
            default), all occurrences joined with commas, or ``None``.
    """
    return kit.ip_resolver.client_key(peer, forwarded)


def limit_key(by: KeyKind, *, client_ip: str, user_id: str | None) -> str:
    """The key a hit is counted under (the same forms as ``backendkit.ratelimit``'s keys).

    ``"user"`` counts per authenticated user and falls back to the client address for
    anonymous requests, so a limit keyed by user still protects public routes.

    Example:
        >>> limit_key("user", client_ip="203.0.113.7", user_id=None)
        'ip:203.0.113.7'
    """
    if by == "user" and user_id is not None:
        return f"user:{user_id}"
    return f"ip:{client_ip}"


def enforce_limit(
    limiter: RateLimiter, rule: Rule, key: str, cycle: RequestCycle | None = None
) -> dict[str, str]:
    """Charge one hit (sync twin).

    Args:
        limiter: the limiter that decides.
        rule: the rule to charge.
        key: the bucket (see [`limit_key`][backendkit.web.limit_key]).
        cycle: the request's cycle. The decision is recorded on it, and the headers
            returned (and put on the response) are those of the most restrictive rule
            charged for the request so far ([`limit_headers`][backendkit.web.limit_headers]),
            not merely this one's.

    Returns:
        The rate-limit headers for the response.

    Raises:
        RateLimited: the hit was denied (429 with ``Retry-After`` and the same headers).
    """
    return _settle(limiter.hit(rule, key), cycle)


async def aenforce_limit(
    limiter: AsyncRateLimiter, rule: Rule, key: str, cycle: RequestCycle | None = None
) -> dict[str, str]:
    """Charge one hit (async twin of [`enforce_limit`][backendkit.web.enforce_limit])."""
    return _settle(await limiter.hit(rule, key), cycle)


def _settle(result: RateLimitResult, cycle: RequestCycle | None) -> dict[str, str]:
    headers = result.headers() if cycle is None else cycle.add_limit_result(result)
    if not result.allowed:
        raise RateLimited(retry_after=result.retry_after, headers=headers)
    return headers
