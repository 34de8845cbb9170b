"""One set of rate-limit headers for a response that charged several rules.

A route may charge more than one rule (login: per address and per account; the app-wide
default budget on top of a route's own limit). Each decision has its own numbers, and a
response can carry only one ``RateLimit-Limit``/``-Remaining``/``-Reset``: the one a client
must heed is the most restrictive, so that the budget about to run out is the one shown.
Written once here, in the framework-free core, and used by every adapter through the
[`RequestCycle`][backendkit.web.RequestCycle].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backendkit.ratelimit import RateLimitResult, Rule

__all__ = ["limit_headers", "most_restrictive"]


def most_restrictive(results: Sequence[RateLimitResult]) -> RateLimitResult:
    """The result whose headers a response charged with ``results`` carries.

    A denial decides (the request is refused by it). Otherwise the result with the
    fewest units left; between equals, the one charged first (as the limiter itself
    breaks ties between the limits of one rule). Results shaped by
    the failure policy alone (``fail_open``/``fail_closed`` while storage is down) counted
    nothing, so they decide only when no result counted.

    Raises:
        ValueError: ``results`` is empty.
    """
    if not results:
        raise ValueError("no rate-limit results to choose from")
    for result in results:
        if not result.allowed:
            return result
    counted = [result for result in results if result.source != "policy"]
    if not counted:
        return results[0]
    best = counted[0]
    for result in counted[1:]:
        if result.remaining < best.remaining:
            best = result
    return best


def limit_headers(results: Sequence[RateLimitResult]) -> dict[str, str]:
    """The rate-limit headers of a response whose request charged ``results``, in order.

    The numbers are those of [`most_restrictive`][backendkit.web.limit_headers] result
    (on a ``429``, the rule that denied, with its ``Retry-After``); in the ``draft``
    style, ``RateLimit-Policy`` lists every limit of every rule that was charged.

    Example:
        >>> from backendkit.ratelimit import RateLimiter, Rule
        >>> limiter = RateLimiter("memory://")
        >>> per_address = limiter.hit(Rule("login", "10/minute"), "ip:203.0.113.7")
        >>> per_account = limiter.hit(Rule("login-account", "5/15 minutes"), "account:1")
        >>> limit_headers([per_address, per_account])["RateLimit-Limit"]
        '5'
    """
    if not results:
        return {}
    chosen = most_restrictive(results)
    if len(results) == 1:
        return chosen.headers()
    rules: list[Rule] = []
    for result in results:
        if result.source != "policy" and result.rule not in rules:
            rules.append(result.rule)
    return chosen.headers(rules=rules)
