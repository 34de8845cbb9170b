"""`RateLimiter` and `AsyncRateLimiter`: one decision per call, on memory or Redis.

Both share ``LimiterCore`` (``_limiter_core.py``: argument checks, turning a backend reply
into a result, the failure policy); they differ only in whether the storage call is awaited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind
from backendkit.clock import Clock, system_clock
from backendkit.errors import ConfigurationError
from backendkit.ratelimit._headers import HeaderStyle
from backendkit.ratelimit._limiter_core import (
    MEMORY_URL,
    AsyncStore,
    DecisionObserver,
    LimiterCore,
    SyncStore,
    check_call,
    is_memory,
    redis_config,
)
from backendkit.ratelimit._policy import FailurePolicy, WarnOnce
from backendkit.ratelimit._result import RateLimitResult
from backendkit.ratelimit._rules import Rule

if TYPE_CHECKING:
    from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
    from backendkit.settings import Settings

__all__ = ["AsyncRateLimiter", "DecisionObserver", "RateLimiter"]


class RateLimiter(LimiterCore):
    """Decides whether a hit on a key is within a rule's limits (sync).

    One call is one decision: on Redis a single script call checks every limit of the
    rule on the server's clock, charges all of them or none, and returns the numbers for
    the headers. Storage failures never raise: the failure policy decides.

    Args:
        storage: ``"memory://"`` (default; this process only), a Redis URL
            (``redis://``, ``rediss://``, ``unix://``, ``redis+cluster://``,
            ``redis+sentinel://``), a [`RedisConfig`][backendkit.redis.RedisConfig], or a
            [`RedisConnector`][backendkit.redis.RedisConnector] to share with other
            components (it is then not closed by [`close`][backendkit.ratelimit.RateLimiter.close]).
        key_prefix: prefix of every Redis key (no braces).
        clock: time source of the memory backend and the local fallback (Redis uses its
            own clock).
        failure_policy: ``"fail_open"`` (default), ``"fail_closed"`` or
            ``"local_fallback"``; see the rate-limiting guide. A rule's own
            ``failure_policy`` overrides it for that rule.
        header_style: ``"standard"`` (``RateLimit-Limit``/``-Remaining``/``-Reset``) or
            ``"draft"`` (IETF ``RateLimit-Policy``/``RateLimit``).
        failure_retry_after: ``Retry-After`` seconds of a ``fail_closed`` denial
            (default: the connector's breaker cooldown; 1 second on memory).

    Raises:
        ConfigurationError: an unknown storage, policy or header style, or a bad prefix.
        MissingDependencyError: a Redis storage without the ``redis`` extra.

    Examples:
        >>> from backendkit.testing import FakeClock
        >>> limiter = RateLimiter("memory://", clock=FakeClock())
        >>> login = Rule("login", "2/minute")
        >>> [limiter.hit(login, "203.0.113.7").allowed for _ in range(3)]
        [True, True, False]
    """

    def __init__(
        self,
        storage: str | RedisConfig | RedisConnector = "memory://",
        *,
        key_prefix: str = "backendkit:rl:",
        clock: Clock = system_clock,
        failure_policy: FailurePolicy = "fail_open",
        header_style: HeaderStyle = "standard",
        failure_retry_after: float | None = None,
    ) -> None:
        super().__init__(
            key_prefix=key_prefix,
            clock=clock,
            failure_policy=failure_policy,
            header_style=header_style,
            failure_retry_after=failure_retry_after,
        )
        self._owned = False
        self.connector: RedisConnector | None = None
        self._store: SyncStore
        if is_memory(storage):
            self._store = self._memory
            self._default_wait = 1.0
            return
        from backendkit.ratelimit._redis import RedisStore
        from backendkit.redis import RedisConfig, RedisConnector

        if isinstance(storage, RedisConnector):
            connector = storage
        elif isinstance(storage, (str, RedisConfig)):
            connector = RedisConnector(redis_config(storage), clock=clock, name="ratelimit")
            self._owned = True
        else:
            raise ConfigurationError(
                f"RateLimiter needs memory://, a Redis URL, a RedisConfig or a RedisConnector, "
                f"got {type(storage).__name__}"
            )
        self.connector = connector
        self._store = RedisStore(connector, key_prefix)
        self._default_wait = connector.breaker.cooldown
        self._warn = WarnOnce(clock, connector.config.warn_interval)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> RateLimiter:
        """Build a limiter from [`Settings`][backendkit.settings.Settings].

        Redis (with the settings' timeouts and breaker) when ``redis_url`` is set,
        memory otherwise. ``options`` are passed to the constructor.
        """
        if settings.redis_url:
            storage_kind(settings.redis_url, refusal=SETTINGS_REFUSAL, memory=False)
            from backendkit.redis import RedisConfig

            return cls(RedisConfig.from_settings(settings), **options)
        return cls(MEMORY_URL, **options)

    @property
    def is_shared(self) -> bool:
        """True when counters live in Redis (shared by every process using it)."""
        return self.connector is not None

    def hit(self, rule: Rule, key: str, *, cost: int = 1) -> RateLimitResult:
        """Count a hit of ``cost`` units on ``key`` under ``rule``, if every limit allows it.

        All-or-nothing: a hit denied by any limit is charged to none of them.

        Args:
            rule: the rule to apply.
            key: who is being limited (see the key helpers, e.g. ``ip_key``).
            cost: units this hit consumes (default 1). A cost above a limit's amount is
                always denied.

        Returns:
            The decision, with the numbers for the response headers.

        Raises:
            ValueError: an empty key or a cost below 1 (programming errors; storage
                errors never raise).
        """
        check_call(rule, key, cost)
        try:
            reply = self._store.run(rule, key, cost, True)
        except Exception as exc:
            return self._decided(self._failed(rule, key, cost, True, exc, self._default_wait))
        return self._decided(self._result(rule, reply, "storage"))

    def peek(self, rule: Rule, key: str, *, cost: int = 1) -> RateLimitResult:
        """Whether a hit of ``cost`` would be allowed now, without consuming anything.

        Returns:
            The decision a hit would get; ``remaining`` is what is left now.

        Raises:
            ValueError: an empty key or a cost below 1.
        """
        check_call(rule, key, cost)
        try:
            reply = self._store.run(rule, key, cost, False)
        except Exception as exc:
            return self._failed(rule, key, cost, False, exc, self._default_wait)
        return self._result(rule, reply, "storage")

    def reset(self, rule: Rule, key: str) -> bool:
        """Forget ``key``'s counters under ``rule`` (one known key: no ``KEYS`` scan).

        The local fallback counters are cleared too.

        Returns:
            False when the storage could not be reached (logged; never raises).
        """
        check_call(rule, key, 1)
        self._memory.clear(rule, key)
        if self._store is self._memory:
            return True
        try:
            self._store.clear(rule, key)
        except Exception as exc:
            self._warn(self.failure_policy, rule.name, exc)
            return False
        return True

    def close(self) -> None:
        """Close the Redis connections this limiter opened (not a shared connector's)."""
        if self._owned and self.connector is not None:
            self.connector.close()

    def __repr__(self) -> str:
        where = "memory" if self.connector is None else repr(self.connector)
        return f"RateLimiter({where}, failure_policy={self.failure_policy!r})"


class AsyncRateLimiter(LimiterCore):
    """The async twin of [`RateLimiter`][backendkit.ratelimit.RateLimiter].

    Same arguments, same decisions (the same script and the same memory backend); the
    Redis call is awaited. ``storage`` takes an
    [`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector] instead of a sync one.

    Examples:
        ```python
        limiter = AsyncRateLimiter("redis://localhost:6379/0")
        result = await limiter.hit(Rule("search", "10/second;100/minute"), user_key(42))
        ```
    """

    def __init__(
        self,
        storage: str | RedisConfig | AsyncRedisConnector = "memory://",
        *,
        key_prefix: str = "backendkit:rl:",
        clock: Clock = system_clock,
        failure_policy: FailurePolicy = "fail_open",
        header_style: HeaderStyle = "standard",
        failure_retry_after: float | None = None,
    ) -> None:
        super().__init__(
            key_prefix=key_prefix,
            clock=clock,
            failure_policy=failure_policy,
            header_style=header_style,
            failure_retry_after=failure_retry_after,
        )
        self._owned = False
        self.connector: AsyncRedisConnector | None = None
        self._store: AsyncStore | None = None
        if is_memory(storage):
            self._default_wait = 1.0
            return
        from backendkit.ratelimit._redis import AsyncRedisStore
        from backendkit.redis import AsyncRedisConnector, RedisConfig

        if isinstance(storage, AsyncRedisConnector):
            connector = storage
        elif isinstance(storage, (str, RedisConfig)):
            connector = AsyncRedisConnector(redis_config(storage), clock=clock, name="ratelimit")
            self._owned = True
        else:
            raise ConfigurationError(
                "AsyncRateLimiter needs memory://, a Redis URL, a RedisConfig or an "
                f"AsyncRedisConnector, got {type(storage).__name__}"
            )
        self.connector = connector
        self._store = AsyncRedisStore(connector, key_prefix)
        self._default_wait = connector.breaker.cooldown
        self._warn = WarnOnce(clock, connector.config.warn_interval)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> AsyncRateLimiter:
        """Build a limiter from [`Settings`][backendkit.settings.Settings] (see the sync twin)."""
        if settings.redis_url:
            storage_kind(settings.redis_url, refusal=SETTINGS_REFUSAL, memory=False)
            from backendkit.redis import RedisConfig

            return cls(RedisConfig.from_settings(settings), **options)
        return cls(MEMORY_URL, **options)

    @property
    def is_shared(self) -> bool:
        """True when counters live in Redis (shared by every process using it)."""
        return self.connector is not None

    async def hit(self, rule: Rule, key: str, *, cost: int = 1) -> RateLimitResult:
        """Count a hit (see [`RateLimiter.hit`][backendkit.ratelimit.RateLimiter.hit]).

        Raises:
            ValueError: an empty key or a cost below 1.
        """
        check_call(rule, key, cost)
        store = self._store
        try:
            if store is None:
                # Memory: no I/O, nothing to await.
                reply = self._memory.run(rule, key, cost, True)
            else:
                reply = await store.run(rule, key, cost, True)
        except Exception as exc:
            return self._decided(self._failed(rule, key, cost, True, exc, self._default_wait))
        return self._decided(self._result(rule, reply, "storage"))

    async def peek(self, rule: Rule, key: str, *, cost: int = 1) -> RateLimitResult:
        """Decide without consuming (see the sync twin's ``peek``).

        Raises:
            ValueError: an empty key or a cost below 1.
        """
        check_call(rule, key, cost)
        store = self._store
        try:
            if store is None:
                reply = self._memory.run(rule, key, cost, False)
            else:
                reply = await store.run(rule, key, cost, False)
        except Exception as exc:
            return self._failed(rule, key, cost, False, exc, self._default_wait)
        return self._result(rule, reply, "storage")

    async def reset(self, rule: Rule, key: str) -> bool:
        """Forget ``key``'s counters under ``rule`` (see the sync twin).

        Returns:
            False when the storage could not be reached (logged; never raises).
        """
        check_call(rule, key, 1)
        self._memory.clear(rule, key)
        if self._store is None:
            return True
        try:
            await self._store.clear(rule, key)
        except Exception as exc:
            self._warn(self.failure_policy, rule.name, exc)
            return False
        return True

    async def aclose(self) -> None:
        """Close the Redis connections this limiter opened (not a shared connector's)."""
        if self._owned and self.connector is not None:
            await self.connector.aclose()

    def __repr__(self) -> str:
        where = "memory" if self.connector is None else repr(self.connector)
        return f"AsyncRateLimiter({where}, failure_policy={self.failure_policy!r})"
