"""What ``WebKit.from_settings`` builds: the services the settings describe.

Each service is built on demand, and every Redis-backed one shares one sync and one async
connector; the builder remembers the connectors it opened so that the kit closes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from backendkit.clock import Clock
from backendkit.errors import MissingDependencyError
from backendkit.settings import Settings

if TYPE_CHECKING:
    from backendkit.auth import TokenService
    from backendkit.cache import Cache
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
    from backendkit.redis import AsyncRedisConnector, RedisConnector

__all__ = ["ServiceBuilder"]


class ServiceBuilder:
    """Builds, on demand, the services the settings describe, sharing one Redis connector
    pair; remembers the connectors it opened so that the kit closes them."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        key_prefix: str,
        given: tuple[RedisConnector | None, AsyncRedisConnector | None],
        token_options: Mapping[str, Any] | None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.key_prefix = key_prefix
        self.token_options = dict(token_options or {})
        self._given_sync, self._given_async = given
        self._sync: RedisConnector | None = None
        self._async: AsyncRedisConnector | None = None
        if settings.redis_url:
            # At build time: a wrong scheme, or a Redis URL without backendkit[redis], stops
            # the start (the scheme is checked first, so it is not reported as an extra).
            from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind

            storage_kind(settings.redis_url, refusal=SETTINGS_REFUSAL, memory=False)

    def connectors(self) -> tuple[RedisConnector, AsyncRedisConnector] | None:
        if not self.settings.redis_url:
            return None
        sync, async_ = self.sync_redis, self.async_redis
        if sync is None or async_ is None:
            from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

            config = RedisConfig.from_settings(self.settings)
            if sync is None:
                sync = self._sync = RedisConnector(config, clock=self.clock, name="backendkit")
            if async_ is None:
                async_ = self._async = AsyncRedisConnector(
                    config, clock=self.clock, name="backendkit"
                )
        return sync, async_

    @property
    def sync_redis(self) -> RedisConnector | None:
        return self._given_sync or self._sync

    @property
    def async_redis(self) -> AsyncRedisConnector | None:
        return self._given_async or self._async

    def _ratelimit_available(self) -> bool:
        try:
            import backendkit.ratelimit  # noqa: F401
        except MissingDependencyError:
            if self.settings.rate_limit_default:
                raise  # the settings ask for a limit: name the extra now
            return False
        return True

    def limiter(self) -> RateLimiter | None:
        if not self._ratelimit_available():
            return None
        from backendkit.ratelimit import RateLimiter

        pair = self.connectors()
        if pair is None:
            return RateLimiter("memory://", clock=self.clock)
        return RateLimiter(pair[0], key_prefix=self.key_prefix + "rl:", clock=self.clock)

    def async_limiter(self) -> AsyncRateLimiter | None:
        if not self._ratelimit_available():
            return None
        from backendkit.ratelimit import AsyncRateLimiter

        pair = self.connectors()
        if pair is None:
            return AsyncRateLimiter("memory://", clock=self.clock)
        return AsyncRateLimiter(pair[1], key_prefix=self.key_prefix + "rl:", clock=self.clock)

    def tokens(self) -> TokenService | None:
        try:
            from backendkit.auth import RedisTokenStore, TokenService
        except MissingDependencyError:
            if self.settings.jwt_secret is not None:
                raise  # a JWT secret describes a token service: name the extra now
            return None
        pair = self.connectors()
        options = self.token_options
        if pair is None:
            return TokenService.from_settings(
                self.settings, store="memory://", clock=self.clock, **options
            )
        store = RedisTokenStore(
            pair[0], async_redis=pair[1], key_prefix=self.key_prefix + "tokens:", clock=self.clock
        )
        return TokenService.from_settings(self.settings, store=store, clock=self.clock, **options)

    def cache(self) -> Cache:
        from backendkit.cache import Cache

        pair = self.connectors()
        if pair is None:
            return Cache("memory://", key_prefix=self.key_prefix + "cache:", clock=self.clock)
        return Cache(
            pair[0],
            async_connector=pair[1],
            key_prefix=self.key_prefix + "cache:",
            clock=self.clock,
        )

    def closers(self) -> tuple[Any, ...]:
        # Only the connectors opened here; the services built on them do not own them.
        return tuple(c for c in (self._sync, self._async) if c is not None)
