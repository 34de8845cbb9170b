"""What the sync and async connectors share: their settings, breaker and hooks, all kept
on one ``ConnectorCore``; only building, calling and closing the client differ."""

from __future__ import annotations

from typing import Generic, TypeVar

from backendkit.redis._breaker import CircuitBreaker
from backendkit.redis._clients import Closable
from backendkit.redis._config import RedisConfig
from backendkit.redis._core import ClientHook, ConnectorCore, FailureObserver

__all__ = ["ConnectorFacade"]

C = TypeVar("C")


class ConnectorFacade(Generic[C]):
    """The accessors of a connector whose redis-py client is a ``C`` (built lazily)."""

    def __init__(self, core: ConnectorCore) -> None:
        self._core = core
        self._client: C | None = None
        self._extra: Closable = None

    @property
    def config(self) -> RedisConfig:
        """The connection settings."""
        return self._core.config

    @property
    def name(self) -> str:
        """The name used in log events."""
        return self._core.name

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker guarding every call."""
        return self._core.breaker

    @property
    def on_failure(self) -> FailureObserver | None:
        """Told ``(name, kind)`` of each call that failed soft: ``timeout``, ``error`` or
        ``pool_exhausted`` (``Metrics.watch_redis`` counts them); ``None``: nobody."""
        return self._core.on_failure

    @on_failure.setter
    def on_failure(self, observer: FailureObserver | None) -> None:
        self._core.on_failure = observer

    @property
    def on_client(self) -> ClientHook | None:
        """Given each redis-py client this connector builds, and the current one when set
        (``Tracing.watch_redis`` wraps its commands in spans); ``None``: nobody."""
        return self._core.on_client

    @on_client.setter
    def on_client(self, hook: ClientHook | None) -> None:
        self._core.on_client = hook
        if hook is not None and self._client is not None:
            hook(self._client)
