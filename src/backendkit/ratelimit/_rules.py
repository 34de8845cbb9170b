"""Rules: a name, one or more limits parsed by `limits`, and a strategy."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from limits import RateLimitItem, parse_many

from backendkit.ratelimit._policy import FAILURE_POLICIES, FailurePolicy

__all__ = ["STRATEGIES", "Limit", "Rule", "Strategy"]

#: How a rule counts hits. The names are the ones `limits` uses.
Strategy = Literal["fixed-window", "moving-window", "sliding-window-counter"]

#: Every strategy, the default first.
STRATEGIES: tuple[Strategy, ...] = ("sliding-window-counter", "fixed-window", "moving-window")

# One-letter codes stored in keys and passed to the Lua script.
_CODES: dict[str, str] = {
    "fixed-window": "f",
    "moving-window": "m",
    "sliding-window-counter": "s",
}

# Rule names end up inside storage keys and header policy names: no ':' (it separates the
# rule from the key), no braces (they delimit the Redis Cluster hash tag), no spaces/quotes.
_NAME = re.compile(r"[A-Za-z0-9_.\-/]{1,200}")

# Every window computation is done in integer milliseconds, in Python and in the Lua
# script. Lua numbers are doubles: products like amount * window_ms must stay exact.
_EXACT = 2**52


class Limit:
    """One limit of a rule: at most ``amount`` per ``window`` seconds.

    Built from a [`limits`](https://limits.readthedocs.io) ``RateLimitItem`` (available as
    ``item``), usually by [`Rule`][backendkit.ratelimit.Rule] parsing a string.

    Examples:
        >>> from limits import parse
        >>> limit = Limit(parse("5/minute"))
        >>> (limit.amount, limit.window)
        (5, 60)
        >>> str(limit)
        '5 per 1 minute'
    """

    __slots__ = ("amount", "item", "window", "window_ms")

    def __init__(self, item: RateLimitItem) -> None:
        amount = int(item.amount)
        window = int(item.get_expiry())
        if amount < 1:
            raise ValueError(f"a limit needs an amount of at least 1, got {item!r}")
        window_ms = window * 1000
        if amount * window_ms * 4 >= _EXACT:
            raise ValueError(f"limit {item!r} is too large (amount x window overflows)")
        #: Hits (or cost units) allowed per window.
        self.amount: int = amount
        #: Window length in seconds.
        self.window: int = window
        #: Window length in milliseconds (the unit of every computation).
        self.window_ms: int = window_ms
        #: The `limits` item this limit was built from.
        self.item: RateLimitItem = item

    @property
    def field(self) -> str:
        """Storage field name of this limit: ``"<amount>/<window seconds>"``."""
        return f"{self.amount}/{self.window}"

    def __str__(self) -> str:
        return f"{self.item.amount} per {self.item.multiples} {self.item.GRANULARITY.name}"

    def __repr__(self) -> str:
        return f"Limit({self!s})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limit):
            return NotImplemented
        return (self.amount, self.window) == (other.amount, other.window)

    def __hash__(self) -> int:
        return hash((self.amount, self.window))


class Rule:
    """A named set of limits applied together, with one counting strategy.

    A hit is allowed only when *every* limit allows it, and then it is charged to every
    limit; a hit denied by one limit is charged to none (all-or-nothing). The name is part
    of every storage key, so two rules never share a counter by accident.

    Args:
        name: identifies the rule in keys and headers: letters, digits, ``_ . - /``
            (up to 200 characters).
        limits: a `limits` string such as ``"10/second;100/minute"``, or `limits` items
            (``RateLimitItem``), or a mix of strings and items.
        strategy: ``"sliding-window-counter"`` (default), ``"fixed-window"`` or
            ``"moving-window"``; see the rate-limiting guide for the trade-offs.
        failure_policy: what this rule does when the limiter's storage fails,
            overriding the limiter's own policy (``None``, the default, keeps it). Rules
            that guard credentials (login, registration, password changes) should not
            fail open: give them ``"local_fallback"`` or ``"fail_closed"``.

    Raises:
        ValueError: a bad name, an unparsable or empty limit string, a duplicate limit,
            an unknown strategy or failure policy, or an amount below 1.

    Examples:
        >>> rule = Rule("login", "5/minute;100/day")
        >>> [str(limit) for limit in rule.limits]
        ['5 per 1 minute', '100 per 1 day']
        >>> rule.strategy
        'sliding-window-counter'
    """

    __slots__ = (
        "_code",
        "_ident",
        "_most",
        "_script_spec",
        "_spec",
        "failure_policy",
        "limits",
        "name",
        "retention_ms",
        "strategy",
    )

    def __init__(
        self,
        name: str,
        limits: str | RateLimitItem | Iterable[str | RateLimitItem],
        *,
        strategy: Strategy = "sliding-window-counter",
        failure_policy: FailurePolicy | None = None,
    ) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"invalid rule name {name!r}: use 1-200 letters, digits or _ . - /")
        if strategy not in _CODES:
            raise ValueError(f"unknown strategy {strategy!r}; choose one of {STRATEGIES}")
        if failure_policy is not None and failure_policy not in FAILURE_POLICIES:
            raise ValueError(
                f"unknown failure policy {failure_policy!r}; choose one of {FAILURE_POLICIES}"
            )
        parsed = tuple(Limit(item) for item in _parse(limits))
        if not parsed:
            raise ValueError(f"rule {name!r} has no limits")
        if len(set(parsed)) != len(parsed):
            raise ValueError(f"rule {name!r} lists the same limit twice: {limits!r}")
        #: The rule's name (part of every key).
        self.name: str = name
        #: The limits, in the order given.
        self.limits: tuple[Limit, ...] = parsed
        #: The counting strategy.
        self.strategy: Strategy = strategy
        #: The failure policy of this rule (``None``: the limiter's).
        self.failure_policy: FailurePolicy | None = failure_policy
        self._code = _CODES[strategy]
        # (amount, window_ms) pairs: what the decision code and the script read.
        self._spec: tuple[tuple[int, int], ...] = tuple(
            (limit.amount, limit.window_ms) for limit in parsed
        )
        # Identity of this rule's state in the memory backend (same name, other limits or
        # strategy: other state, so a redefined rule never misreads old counters).
        self._ident: tuple[str, str, tuple[tuple[int, int], ...]] = (name, self._code, self._spec)
        longest = max(limit.window_ms for limit in parsed)
        # The largest amount: how many stamps the moving window keeps.
        self._most = max(limit.amount for limit in parsed)
        #: How long a key's state is needed after its last charge, in milliseconds
        #: (the sliding window counter still weighs the previous window).
        self.retention_ms: int = 2 * longest if self._code == "s" else longest
        # The rule as the Redis script reads it (built once: it is sent with every hit).
        self._script_spec = " ".join(
            [self._code, str(self.retention_ms)]
            + [f"{amount} {window}" for amount, window in self._spec]
        )

    def __repr__(self) -> str:
        spec = ";".join(f"{lim.amount}/{lim.window}s" for lim in self.limits)
        policy = "" if self.failure_policy is None else f", failure_policy={self.failure_policy!r}"
        return f"Rule({self.name!r}, {spec!r}, strategy={self.strategy!r}{policy})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rule):
            return NotImplemented
        return (self.name, self.limits, self.strategy, self.failure_policy) == (
            other.name,
            other.limits,
            other.strategy,
            other.failure_policy,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.limits, self.strategy, self.failure_policy))


def _parse(limits: str | RateLimitItem | Iterable[str | RateLimitItem]) -> list[RateLimitItem]:
    if isinstance(limits, RateLimitItem):
        return [limits]
    if isinstance(limits, str):
        return _parse_string(limits)
    items: list[RateLimitItem] = []
    for entry in limits:
        if isinstance(entry, RateLimitItem):
            items.append(entry)
        elif isinstance(entry, str):
            items.extend(_parse_string(entry))
        else:
            raise ValueError(f"not a limit: {entry!r}")
    return items


def _parse_string(text: str) -> list[RateLimitItem]:
    try:
        return list(parse_many(text))
    except ValueError as exc:
        raise ValueError(
            f"invalid rate limit {text!r}: use the limits syntax, e.g. '10/second;100/minute'"
        ) from exc
