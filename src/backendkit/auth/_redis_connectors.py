"""The connectors of a Redis auth store: built from a URL or config (both flavours, neither
connected yet), or given (one, or a sync one paired with an async one); each side raises
``ConfigurationError`` when asked for and absent."""

from __future__ import annotations

from dataclasses import dataclass

from backendkit.clock import Clock
from backendkit.errors import ConfigurationError
from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

__all__ = ["StoreConnectors"]


@dataclass(frozen=True, slots=True)
class StoreConnectors:
    """The connectors a store named ``owner`` sends its commands through."""

    owner: str
    sync: RedisConnector | None
    asynchronous: AsyncRedisConnector | None

    @classmethod
    def of(
        cls,
        owner: str,
        redis: str | RedisConfig | RedisConnector | AsyncRedisConnector,
        async_redis: AsyncRedisConnector | None,
        *,
        clock: Clock,
        name: str,
    ) -> StoreConnectors:
        """Build or sort the connectors (``name`` labels built ones in logs and metrics).

        Raises:
            ConfigurationError: ``redis`` is none of the accepted kinds, or a bad URL.
        """
        sync: RedisConnector | None
        if isinstance(redis, str | RedisConfig):
            sync = RedisConnector(redis, clock=clock, name=name)
            async_redis = AsyncRedisConnector(redis, clock=clock, name=name)
        elif isinstance(redis, RedisConnector):
            sync = redis
        elif isinstance(redis, AsyncRedisConnector):
            sync, async_redis = None, redis
        else:
            raise ConfigurationError(f"{owner} needs a Redis URL, config or connector")
        return cls(owner, sync, async_redis)

    def connector(self) -> RedisConnector:
        """The sync connector (``ConfigurationError`` without one)."""
        if self.sync is None:
            raise ConfigurationError(f"this {self.owner} has no sync connector")
        return self.sync

    def async_connector(self) -> AsyncRedisConnector:
        """The async connector (``ConfigurationError`` without one)."""
        if self.asynchronous is None:
            raise ConfigurationError(f"this {self.owner} has no async connector")
        return self.asynchronous

    def close(self) -> None:
        """Close the sync connector's connections (a shared one reconnects on use)."""
        if self.sync is not None:
            self.sync.close()

    async def aclose(self) -> None:
        """Close the async connector's connections."""
        if self.asynchronous is not None:
            await self.asynchronous.aclose()
