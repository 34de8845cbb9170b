"""Rate limits at the HTTP edge: what a route limit is, its rule name and its bucket.

The limiter itself ([`backendkit.ratelimit`][backendkit.ratelimit]) decides; this module
only describes a limit ([`RouteLimit`][backendkit.web.RouteLimit]), names its rule, picks
the bucket and turns the decision into headers or a ``429``. Every adapter's
``rate_limit``/``charge_limit`` builds a ``RouteLimit``, so the words mean the same in
every framework.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from backendkit.errors import ConfigurationError, RateLimited
from backendkit.web._cycle import RequestCycle

if TYPE_CHECKING:
    from backendkit.ratelimit import (
        AsyncRateLimiter,
        FailurePolicy,
        RateLimiter,
        RateLimitResult,
        Rule,
    )

__all__ = [
    "KeyFunc",
    "KeyKind",
    "LimitOptions",
    "RouteLimit",
    "aenforce_limit",
    "enforce_limit",
    "limit_key",
    "route_rule",
    "rule_name",
]

#: What a limit is keyed by: the client address, or the authenticated user.
KeyKind = Literal["ip", "user"]
#: A function of the framework's request returning the bucket (sync, or async under ASGI).
KeyFunc = Callable[[Any], "str | Awaitable[str]"]


class LimitOptions(TypedDict, total=False):
    """The keywords of a [`RouteLimit`][backendkit.web.RouteLimit] besides its limits.

    Every adapter's ``rate_limit``/``charge_limit`` takes them as ``**options``, so the
    words are the same in every framework (and a type checker flags a misspelt one).
    """

    key: KeyKind | KeyFunc | None
    bucket: str | None
    name: str | None
    failure_policy: FailurePolicy | None
    cost: int


_KINDS = ("ip", "user")
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


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """One rate limit a route charges: every adapter's ``rate_limit``/``charge_limit``.

    The bucket is exactly one of: a key kind (``"ip"``, the client address behind the
    trusted proxies; ``"user"``, the authenticated user, verified before charging, else
    the address), a function of the framework's request, or a literal ``bucket`` the view
    computed (e.g. ``f"login:{client}:{email_digest}"``). Any other ``key`` string is
    refused: it used to be read as a literal in some frameworks and as the address in
    others.

    Args:
        limits: a limits string such as ``"5/minute"`` or ``"10/second;100/hour"``.
        key: ``"ip"`` (the default), ``"user"`` or a function of the request.
        bucket: a literal bucket, instead of ``key``; keep personal data out of it (it is
            stored in the limiter's backend).
        name: the rule name (default: the method and route template, the same in every
            worker).
        failure_policy: what this rule does while the limiter's storage is down,
            overriding the limiter's (``"local_fallback"`` or ``"fail_closed"`` for rules
            that guard credentials); ``None`` keeps the limiter's.
        cost: units one request consumes.

    Raises:
        ConfigurationError: an ambiguous ``key``, both ``key`` and ``bucket``, an empty
            bucket or a cost below 1.
        ValueError: ``limits`` does not parse (at definition time, not per request).

    Example:
        >>> RouteLimit("5/minute").key, RouteLimit("5/minute", bucket="login:1.2.3.4").key
        ('ip', None)
    """

    limits: str
    key: KeyKind | KeyFunc | None = None
    bucket: str | None = None
    name: str | None = None
    failure_policy: FailurePolicy | None = None
    cost: int = 1

    def __post_init__(self) -> None:
        key, bucket = self.key, self.bucket
        if bucket is not None:
            if key is not None:
                raise ConfigurationError("give a rate limit either key=... or bucket=..., not both")
            if not isinstance(bucket, str) or not bucket:
                raise ConfigurationError("a rate-limit bucket must be a non-empty string")
        elif key is None:
            object.__setattr__(self, "key", "ip")
        elif not callable(key) and key not in _KINDS:
            raise ConfigurationError(
                "rate-limit key must be 'ip', 'user' or a function of the request, "
                f"not {key!r}; pass a literal bucket as bucket=..."
            )
        if isinstance(self.cost, bool) or not isinstance(self.cost, int) or self.cost < 1:
            raise ConfigurationError("a rate-limit cost must be a whole number of at least 1")
        route_rule(self.limits, self.name or "check", self.failure_policy)

    @property
    def needs_user(self) -> bool:
        """Whether the bucket is the authenticated user (the token is verified first)."""
        return self.key == "user"

    def rule(self, method: str, route: str) -> Rule:
        """The rule charged for a request to ``route`` (a template, not the raw path)."""
        return route_rule(self.limits, self.name or rule_name(method, route), self.failure_policy)


def enforce_limit(
    limiter: RateLimiter,
    rule: Rule,
    key: str,
    cycle: RequestCycle | None = None,
    *,
    cost: int = 1,
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
        cost: units this hit consumes.

    Returns:
        The rate-limit headers for the response.

    Raises:
        RateLimited: the hit was denied (429 with ``Retry-After`` and the same headers).
    """
    return _settle(limiter.hit(rule, key, cost=cost), cycle)


async def aenforce_limit(
    limiter: AsyncRateLimiter,
    rule: Rule,
    key: str,
    cycle: RequestCycle | None = None,
    *,
    cost: int = 1,
) -> dict[str, str]:
    """Charge one hit (async twin of [`enforce_limit`][backendkit.web.enforce_limit])."""
    return _settle(await limiter.hit(rule, key, cost=cost), cycle)


def _settle(result: RateLimitResult, cycle: RequestCycle | None) -> dict[str, str]:
    headers = result.headers() if cycle is None else cycle.add_limit_result(result)
    if not result.allowed:
        raise RateLimited(retry_after=result.retry_after, headers=headers)
    return headers
