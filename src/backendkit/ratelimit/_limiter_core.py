"""What `RateLimiter` and `AsyncRateLimiter` share: argument checks, turning a backend
reply into a result, the failure policy, and the storage Protocols they call.

Only the storage call differs between the two (awaited or not); everything here is I/O free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from backendkit._storage_url import storage_kind
from backendkit.clock import Clock
from backendkit.errors import ConfigurationError
from backendkit.ratelimit._decision import Reply, choose
from backendkit.ratelimit._headers import HEADER_STYLES, HeaderStyle
from backendkit.ratelimit._memory import MemoryStore
from backendkit.ratelimit._policy import FAILURE_POLICIES, FailurePolicy, WarnOnce
from backendkit.ratelimit._result import DecisionSource, RateLimitResult
from backendkit.ratelimit._rules import Rule

if TYPE_CHECKING:
    from backendkit.redis import RedisConfig

__all__ = [
    "MEMORY_URL",
    "AsyncStore",
    "DecisionObserver",
    "LimiterCore",
    "SyncStore",
    "check_call",
    "is_memory",
    "redis_config",
]

#: Called with every decision ``hit`` makes (``Metrics.watch_limiter`` sets one).
DecisionObserver = Callable[[RateLimitResult], None]

#: The one storage URL that keeps counts in this process.
MEMORY_URL = "memory://"
_REFUSAL = "unsupported rate-limit storage"


class SyncStore(Protocol):
    """A storage the sync limiter calls: memory or Redis."""

    def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]: ...

    def clear(self, rule: Rule, key: str) -> None: ...


class AsyncStore(Protocol):
    """A storage the async limiter awaits."""

    async def run(self, rule: Rule, key: str, cost: int, charge: bool) -> list[int]: ...

    async def clear(self, rule: Rule, key: str) -> None: ...


def check_call(rule: Rule, key: str, cost: int) -> None:
    """Refuse a bad cost, key or rule before any storage is asked."""
    # On every hit: cheap identity checks first (bool is an int subclass: refused).
    if cost.__class__ is not int or cost < 1:
        raise ValueError(f"cost must be an integer >= 1, got {cost!r}")
    if not key or not isinstance(key, str):
        raise ValueError("the rate-limit key must be a non-empty string")
    if rule.__class__ is not Rule and not isinstance(rule, Rule):
        raise TypeError(f"expected a Rule, got {type(rule).__name__}")


def is_memory(storage: object) -> bool:
    """True for a ``memory://`` URL; a wrong URL is refused here, before any extra is needed."""
    if not isinstance(storage, str) or storage_kind(storage, refusal=_REFUSAL) != "memory":
        return False
    if storage.strip().lower() != MEMORY_URL:
        raise ConfigurationError("memory:// rate-limit storage takes no host, path or options")
    return True


def redis_config(storage: str | RedisConfig) -> RedisConfig:
    """A URL as a `RedisConfig`; a `RedisConfig` as it is."""
    from backendkit.redis import RedisConfig

    if isinstance(storage, RedisConfig):
        return storage
    return RedisConfig(storage)


class LimiterCore:
    """Configuration and every piece of logic both limiters share."""

    def __init__(
        self,
        *,
        key_prefix: str,
        clock: Clock,
        failure_policy: FailurePolicy,
        header_style: HeaderStyle,
        failure_retry_after: float | None,
    ) -> None:
        if failure_policy not in FAILURE_POLICIES:
            raise ConfigurationError(
                f"unknown failure policy {failure_policy!r}; choose one of {FAILURE_POLICIES}"
            )
        if header_style not in HEADER_STYLES:
            raise ConfigurationError(
                f"unknown header style {header_style!r}; choose one of {HEADER_STYLES}"
            )
        if not isinstance(key_prefix, str) or "{" in key_prefix or "}" in key_prefix:
            raise ConfigurationError("key_prefix must be a string without '{' or '}'")
        if failure_retry_after is not None and not failure_retry_after > 0:
            raise ConfigurationError("failure_retry_after must be a positive number of seconds")
        self.key_prefix = key_prefix
        self.clock = clock
        self.failure_policy: FailurePolicy = failure_policy
        self.header_style: HeaderStyle = header_style
        self._failure_retry_after = failure_retry_after
        # The whole store for memory://; the local fallback counters otherwise.
        self._memory = MemoryStore(clock)
        self._warn = WarnOnce(clock)
        #: Told every decision ``hit`` makes (request metrics count them); ``None``: nobody.
        self.on_decision: DecisionObserver | None = None

    def _decided(self, result: RateLimitResult) -> RateLimitResult:
        observer = self.on_decision
        if observer is not None:
            observer(result)
        return result

    def _result(self, rule: Rule, reply: Reply, source: DecisionSource) -> RateLimitResult:
        index = choose(reply)
        base = 2 + 4 * index
        allowed = reply[1] == 1
        # Positional: this runs on every request.
        return RateLimitResult(
            allowed,
            rule.limits[index],
            reply[base + 1],
            reply[base + 2] / 1000,
            0.0 if allowed else reply[base + 3] / 1000,
            rule,
            reply[0] / 1000,
            source,
            self.header_style,
        )

    def _failed(
        self,
        rule: Rule,
        key: str,
        cost: int,
        charge: bool,
        exc: Exception,
        retry_after: float,
    ) -> RateLimitResult:
        policy = rule.failure_policy or self.failure_policy
        self._warn(policy, rule.name, exc)
        if policy == "local_fallback":
            return self._result(rule, self._memory.run(rule, key, cost, charge), "fallback")
        now = self.clock.now()
        first = rule.limits[0]
        if policy == "fail_open":
            return RateLimitResult(
                allowed=True,
                limit=first,
                remaining=first.amount,
                reset=now,
                retry_after=0.0,
                rule=rule,
                decided_at=now,
                source="policy",
                header_style=self.header_style,
            )
        wait = self._failure_retry_after or retry_after
        return RateLimitResult(
            allowed=False,
            limit=first,
            remaining=0,
            reset=now + wait,
            retry_after=wait,
            rule=rule,
            decided_at=now,
            source="policy",
            header_style=self.header_style,
        )
