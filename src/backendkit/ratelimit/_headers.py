"""Response headers from one decision: the classic trio or the IETF draft's fields.

``standard`` (the default) sends ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (delta seconds), the form most clients and gateways read today.
``draft`` sends the structured fields of draft-ietf-httpapi-ratelimit-headers (09 and
later): ``RateLimit-Policy`` lists every limit of the rule (``q`` quota, ``w`` window
seconds) and ``RateLimit`` reports the deciding one (``r`` remaining, ``t`` seconds to
reset). Both add ``Retry-After`` (whole seconds, at least 1) to a denial.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, Protocol

from backendkit.ratelimit._rules import Limit, Rule

__all__ = ["HEADER_STYLES", "HeaderSource", "HeaderStyle", "policy_name", "render_headers"]

#: Which rate-limit headers a result renders.
HeaderStyle = Literal["standard", "draft"]

#: Every header style, the default first.
HEADER_STYLES: tuple[HeaderStyle, ...] = ("standard", "draft")


class HeaderSource(Protocol):
    """What the headers read from one decision (a ``RateLimitResult`` has it all).

    A protocol, so that the result can render itself without this module knowing it.
    """

    @property
    def allowed(self) -> bool: ...
    @property
    def limit(self) -> Limit: ...
    @property
    def remaining(self) -> int: ...
    @property
    def reset(self) -> float: ...
    @property
    def retry_after(self) -> float: ...
    @property
    def rule(self) -> Rule: ...
    @property
    def decided_at(self) -> float: ...
    @property
    def source(self) -> str: ...


def policy_name(rule: Rule, limit: Limit) -> str:
    """The draft's quota policy identifier for one limit, e.g. ``login:5/60s``.

    Rule names are restricted to characters that need no escaping in a structured-field
    string.
    """
    return f"{rule.name}:{limit.amount}/{limit.window}s"


def _seconds(value: float) -> int:
    return max(0, math.ceil(value - 1e-9))


def render_headers(
    result: HeaderSource, style: HeaderStyle, rules: Sequence[Rule] = ()
) -> dict[str, str]:
    """Headers for ``result`` in ``style`` (see the module docstring).

    ``rules``: every rule charged for the same response, when there are several; the
    draft's ``RateLimit-Policy`` then lists each of their limits (``result.rule``'s
    alone when empty).
    """
    headers: dict[str, str] = {}
    if result.source != "policy":
        # A decision made by the failure policy counted nothing: no quota to report.
        limit = result.limit
        reset = str(_seconds(result.reset - result.decided_at))
        if style == "draft":
            headers["RateLimit-Policy"] = ", ".join(
                f'"{policy_name(rule, item)}";q={item.amount};w={item.window}'
                for rule in (rules or (result.rule,))
                for item in rule.limits
            )
            headers["RateLimit"] = (
                f'"{policy_name(result.rule, limit)}";r={result.remaining};t={reset}'
            )
        else:
            headers["RateLimit-Limit"] = str(limit.amount)
            headers["RateLimit-Remaining"] = str(result.remaining)
            headers["RateLimit-Reset"] = reset
    if not result.allowed:
        headers["Retry-After"] = str(max(1, _seconds(result.retry_after)))
    return headers
