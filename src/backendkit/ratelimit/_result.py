"""The outcome of one hit or peek."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from backendkit.errors import RateLimited
from backendkit.ratelimit._headers import HeaderStyle, render_headers
from backendkit.ratelimit._rules import Limit, Rule

__all__ = ["DecisionSource", "RateLimitResult"]

#: Who decided: the storage, the local fallback counters, or the failure policy alone.
DecisionSource = Literal["storage", "fallback", "policy"]


class RateLimitResult:
    """What the limiter decided for one hit (or peek), with the numbers for the headers.

    Attributes:
        allowed: whether the hit may proceed.
        limit: the limit that decided: when denied, the denying limit with the longest
            wait; when allowed, the limit with the fewest units left.
        remaining: units of ``limit`` still available now (after this hit when charged).
        reset: epoch seconds at which ``limit``'s quota resets: the end of the current
            window (fixed window, sliding window counter) or when the oldest counted hit
            leaves the window (moving window); the decision time when nothing is
            counted; on a denial never before ``retry_after``.
        retry_after: seconds until a hit of the same cost would be allowed; ``0.0``
            when allowed.
        rule: the rule that was applied.
        decided_at: epoch seconds of the decision, on the storage's clock (Redis's own
            clock on Redis), so ``reset - decided_at`` is exact even if this host's
            clock is off.
        source: ``"storage"`` for a normal decision; ``"fallback"`` when storage failed
            and local in-memory counters decided (policy ``local_fallback``);
            ``"policy"`` when storage failed and ``fail_open``/``fail_closed`` decided
            without counting.
        header_style: the style [`headers`][backendkit.ratelimit.RateLimitResult.headers]
            uses by default.

    Examples:
        >>> from backendkit.ratelimit import RateLimiter, Rule
        >>> limiter = RateLimiter("memory://")
        >>> result = limiter.hit(Rule("demo", "2/minute"), "client-1")
        >>> (result.allowed, result.remaining, result.headers()["RateLimit-Limit"])
        (True, 1, '2')
    """

    __slots__ = (
        "allowed",
        "decided_at",
        "header_style",
        "limit",
        "remaining",
        "reset",
        "retry_after",
        "rule",
        "source",
    )

    def __init__(
        self,
        allowed: bool,
        limit: Limit,
        remaining: int,
        reset: float,
        retry_after: float,
        rule: Rule,
        decided_at: float,
        source: DecisionSource = "storage",
        header_style: HeaderStyle = "standard",
    ) -> None:
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.retry_after = retry_after
        self.rule = rule
        self.decided_at = decided_at
        self.source: DecisionSource = source
        self.header_style: HeaderStyle = header_style

    @property
    def degraded(self) -> bool:
        """True when storage failed and the failure policy shaped this result."""
        return self.source != "storage"

    @property
    def reset_after(self) -> float:
        """Seconds from the decision until ``reset`` (never negative)."""
        return max(0.0, self.reset - self.decided_at)

    def headers(
        self, style: HeaderStyle | None = None, *, rules: Sequence[Rule] = ()
    ) -> dict[str, str]:
        """Response headers for this decision.

        ``standard``: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
        (seconds). ``draft``: the IETF draft's ``RateLimit-Policy`` and ``RateLimit``
        structured fields. A denial adds ``Retry-After`` (whole seconds, at least 1). A
        result decided by ``fail_open``/``fail_closed`` counted nothing, so it carries no
        quota headers (only ``Retry-After`` when denied).

        Args:
            style: overrides the limiter's ``header_style`` for this call.
            rules: every rule charged for the same response when there are several (the
                draft's ``RateLimit-Policy`` lists them all); see
                [`limit_headers`][backendkit.web.limit_headers].
        """
        return render_headers(self, style or self.header_style, rules)

    def raise_if_denied(self) -> None:
        """Raise [`RateLimited`][backendkit.errors.RateLimited] (429) when not allowed.

        The error carries this result's headers, ``Retry-After`` included.

        Raises:
            RateLimited: the hit was denied.
        """
        if not self.allowed:
            raise RateLimited(retry_after=self.retry_after, headers=self.headers())

    def __repr__(self) -> str:
        return (
            f"RateLimitResult(allowed={self.allowed}, limit={self.limit!r}, "
            f"remaining={self.remaining}, reset={self.reset}, "
            f"retry_after={self.retry_after}, rule={self.rule.name!r}, source={self.source!r})"
        )
