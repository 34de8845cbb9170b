"""The async Redis connector (same logic as the sync one; only the I/O is awaited)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from redis.commands.core import AsyncScript

from backendkit.clock import Clock, system_clock
from backendkit.errors import BackendUnavailable
from backendkit.redis._clients import AsyncRedisClient, build_async_client
from backendkit.redis._command import arun_command, direct
from backendkit.redis._config import RedisConfig
from backendkit.redis._core import ConnectorCore, ScriptHost
from backendkit.redis._facade import ConnectorFacade

__all__ = ["AsyncRedisConnector"]

T = TypeVar("T")


class AsyncRedisConnector(ConnectorFacade[AsyncRedisClient]):
    """The async twin of [`RedisConnector`][backendkit.redis.RedisConnector].

    Same breaker, timeouts, error translation and warnings; operations are coroutines.
    A connector belongs to the event loop it is first used on (redis-py's asyncio
    connections cannot move between loops).

    Args:
        config: a [`RedisConfig`][backendkit.redis.RedisConfig] or just a URL.
        clock: time source for the breaker cooldown and the warning interval.
        name: names the connector in log events.

    Raises:
        ConfigurationError: the URL or a setting is invalid.

    Example:
        ```python
        conn = AsyncRedisConnector("redis://localhost:6379/0")
        await conn.execute(lambda r: r.set("greeting", "hello", ex=60))
        ```
    """

    def __init__(
        self, config: RedisConfig | str, *, clock: Clock = system_clock, name: str = "redis"
    ) -> None:
        super().__init__(ConnectorCore(config, clock, name))

    @property
    def is_cluster(self) -> bool:
        """True for ``redis+cluster://`` URLs (the client is an asyncio ``RedisCluster``)."""
        return self._core.parsed.kind == "cluster"

    @property
    def client(self) -> AsyncRedisClient:
        """The redis-py asyncio client, built on first use (building opens no connection).

        Prefer [`execute`][backendkit.redis.AsyncRedisConnector.execute]: calls made
        directly on the client bypass the breaker and the error translation.
        """
        if self._client is None:
            # No await in between, so two tasks cannot both build a client.
            built, self._extra = build_async_client(self._core)
            self._core.built(built)
            self._client = built
        return self._client

    async def execute(self, op: Callable[[AsyncRedisClient], Awaitable[T]]) -> T:
        """Await ``op(client)`` once, guarded by the breaker; outages become 503s.

        Args:
            op: receives the asyncio client and returns an awaitable; runs at most once.

        Returns:
            What the awaitable returns.

        Raises:
            BackendUnavailable: the breaker is open (nothing was sent), or Redis could not
                be reached, timed out or answered that it cannot serve.
        """
        self._core.before_call()
        try:
            result = await op(self.client)
        except Exception as exc:
            self._core.fail(exc)
        self._core.on_success()
        return result

    async def command(self, *args: Any) -> Any:
        """Await one Redis command, ``await conn.command("MGET", "a", "b")``: like
        `execute`, at the lowest cost.

        See [`RedisConnector.command`][backendkit.redis.RedisConnector.command].
        """
        core = self._core
        core.before_call()
        client = self.client
        try:
            if direct(client):
                result = await arun_command(client, args)
            else:
                result = await client.execute_command(*args)
        except Exception as exc:
            core.fail(exc)
        core.on_success()
        return result

    def register_script(self, lua: str) -> AsyncScript:
        """Prepare a Lua script; opens no connection.

        Run it inside ``execute``:
        ``await conn.execute(lambda r: script(keys=[...], args=[...], client=r))``.
        """
        return AsyncScript(cast(Any, ScriptHost()), lua)

    async def ping(self) -> bool:
        """Return True when Redis answers PING, False when it is unavailable."""

        async def _ping(client: AsyncRedisClient) -> bool:
            return bool(await client.ping())

        try:
            return await self.execute(_ping)
        except BackendUnavailable:
            return False

    async def aclose(self) -> None:
        """Close the client's connections; the next call builds a new client."""
        client, extra = self._client, self._extra
        self._client, self._extra = None, None
        if client is not None:
            await client.aclose()
        if extra is not None:
            await cast(Any, extra).aclose()

    async def __aenter__(self) -> AsyncRedisConnector:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncRedisConnector({self._core.describe()})"
