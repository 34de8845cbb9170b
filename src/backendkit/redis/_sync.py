"""The sync Redis connector."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from redis.commands.core import Script

from backendkit.clock import Clock, system_clock
from backendkit.errors import BackendUnavailable
from backendkit.redis._clients import RedisClient, build_sync_client
from backendkit.redis._command import direct, run_command
from backendkit.redis._config import RedisConfig
from backendkit.redis._core import ConnectorCore, ScriptHost
from backendkit.redis._facade import ConnectorFacade

__all__ = ["RedisConnector"]

T = TypeVar("T")


class RedisConnector(ConnectorFacade[RedisClient]):
    """The one way backendkit talks to Redis (sync): timeouts, no retries, a breaker.

    Every call goes through [`execute`][backendkit.redis.RedisConnector.execute]: it
    fails fast with [`BackendUnavailable`][backendkit.errors.BackendUnavailable] while
    the circuit breaker is open (no connection is attempted), runs the operation exactly
    once, and turns any outage error from redis-py into ``BackendUnavailable``. Share one
    connector between the token store, the limiter and the cache, so they share one
    connection pool and one breaker.

    Args:
        config: a [`RedisConfig`][backendkit.redis.RedisConfig] or just a URL (defaults
            for everything else).
        clock: time source for the breaker cooldown and the warning interval.
        name: names the connector in log events.

    Raises:
        ConfigurationError: the URL or a setting is invalid.

    Example:
        ```python
        conn = RedisConnector("redis://localhost:6379/0")
        conn.execute(lambda r: r.set("greeting", "hello", ex=60))
        ```
    """

    def __init__(
        self, config: RedisConfig | str, *, clock: Clock = system_clock, name: str = "redis"
    ) -> None:
        super().__init__(ConnectorCore(config, clock, name))
        self._lock = threading.Lock()

    @property
    def is_cluster(self) -> bool:
        """True for ``redis+cluster://`` URLs (the client is a ``RedisCluster``)."""
        return self._core.parsed.kind == "cluster"

    @property
    def client(self) -> RedisClient:
        """The redis-py client, built on first use with timeouts set and retries off.

        Prefer [`execute`][backendkit.redis.RedisConnector.execute]: calls made directly
        on the client bypass the breaker and the error translation. A cluster client
        connects to discover the topology when it is built.
        """
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    built, self._extra = build_sync_client(self._core)
                    self._core.built(built)
                    self._client = built
                client = self._client
        return client

    def execute(self, op: Callable[[RedisClient], T]) -> T:
        """Run ``op(client)`` once, guarded by the breaker; outages become 503s.

        Args:
            op: receives the redis-py client; runs at most once (never retried).

        Returns:
            Whatever ``op`` returns.

        Raises:
            BackendUnavailable: the breaker is open (nothing was sent), or Redis could not
                be reached, timed out or answered that it cannot serve (``from`` the
                redis-py error).
        """
        self._core.before_call()
        try:
            result = op(self.client)
        except Exception as exc:
            self._core.fail(exc)
        self._core.on_success()
        return result

    def command(self, *args: Any) -> Any:
        """Run one Redis command, ``conn.command("MGET", "a", "b")``: like `execute`, at
        the lowest cost.

        Guarded by the breaker and translated like ``execute``. On a plain client that
        nobody instruments (a tracing hook keeps every command on ``execute_command``) the
        command skips redis-py's per-call ``execute_command`` machinery and goes straight
        to a pooled connection (from redis-py's plain pool, without the pool's per-call
        bookkeeping), which cuts more than half of the client CPU of a ``GET``; a cluster
        client always uses ``execute_command``. redis-py's own observability hooks do not
        see such a command.

        Raises:
            BackendUnavailable: as for ``execute``.
        """
        core = self._core
        core.before_call()
        client = self.client
        try:
            if direct(client):
                result = run_command(client, args)
            else:
                result = cast(Any, client).execute_command(*args)
        except Exception as exc:
            core.fail(exc)
        core.on_success()
        return result

    def register_script(self, lua: str) -> Script:
        """Prepare a Lua script; opens no connection.

        Run it inside ``execute`` so it is guarded like any other call:
        ``conn.execute(lambda r: script(keys=[...], args=[...], client=r))``.
        """
        return Script(cast(Any, ScriptHost()), lua)

    def ping(self) -> bool:
        """Return True when Redis answers PING, False when it is unavailable."""
        try:
            return bool(self.execute(lambda r: r.ping()))
        except BackendUnavailable:
            return False

    def close(self) -> None:
        """Close the client's connections; the next call builds a new client."""
        with self._lock:
            client, extra = self._client, self._extra
            self._client, self._extra = None, None
        if client is not None:
            client.close()
        if extra is not None:
            cast(Any, extra).close()

    def __enter__(self) -> RedisConnector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RedisConnector({self._core.describe()})"
