"""Logic shared by the sync and async connectors: breaker, error translation, warnings.

Only the I/O differs between [`RedisConnector`][backendkit.redis.RedisConnector] and
[`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector]; both drive this core
before and after every call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NoReturn

from redis._parsers.encoders import Encoder
from redis.backoff import NoBackoff

from backendkit.clock import Clock
from backendkit.errors import BackendUnavailable
from backendkit.logging import get_logger
from backendkit.redis._breaker import CircuitBreaker
from backendkit.redis._config import ParsedRedisUrl, RedisConfig, parse_redis_url
from backendkit.redis._errors import failure_kind, is_outage, is_pool_exhausted, server_answered

#: Told ``(connector name, kind)`` of each call that failed soft (``failure_kind``).
FailureObserver = Callable[[str, str], None]
#: Given each redis-py client a connector builds, before its first command (tracing wraps
#: the client's ``execute_command``).
ClientHook = Callable[[Any], None]

__all__ = ["ConnectorCore", "ScriptHost", "no_backoff"]

_log = get_logger("backendkit.redis")


def no_backoff() -> NoBackoff:
    """The backoff for a retry policy with zero retries (it is never consulted)."""
    return NoBackoff()


def _maintenance_notifications_off() -> dict[str, Any]:
    try:
        from redis.maint_notifications import MaintNotificationsConfig
    except ImportError:  # pragma: no cover - redis-py before maintenance notifications
        return {}
    return {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


class _WarnThrottle:
    """Lets one warning through per ``interval`` seconds and counts the ones it held back."""

    def __init__(self, interval: float, clock: Clock) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next_at: float | None = None
        self._suppressed = 0

    def take(self) -> int | None:
        """Return how many warnings were held back since the last one, or None to hold."""
        with self._lock:
            now = self._clock.monotonic()
            if self._next_at is not None and now < self._next_at:
                self._suppressed += 1
                return None
            self._next_at = now + self._interval
            suppressed, self._suppressed = self._suppressed, 0
            return suppressed


class ConnectorCore:
    """Everything a connector does around one Redis call, minus the call itself."""

    def __init__(self, config: RedisConfig | str, clock: Clock, name: str) -> None:
        self.config = config if isinstance(config, RedisConfig) else RedisConfig(config)
        self.parsed: ParsedRedisUrl = parse_redis_url(self.config.url)
        self.name = name
        self.clock = clock
        self.breaker = CircuitBreaker(
            threshold=self.config.breaker_threshold,
            cooldown=self.config.breaker_cooldown,
            clock=clock,
        )
        self._throttle = _WarnThrottle(self.config.warn_interval, clock)
        # Whether a redis_unavailable warning went out since the last redis_recovered: the
        # two are logged in pairs, so a flapping server cannot flood the log with
        # recoveries while its outage warnings are throttled.
        self._outage_reported = False
        self.on_failure: FailureObserver | None = None
        self.on_client: ClientHook | None = None

    def built(self, client: Any) -> None:
        """A new client: ``on_client`` sees it before it is used."""
        if self.on_client is not None:
            self.on_client(client)

    def timeouts(self) -> dict[str, Any]:
        """Keyword arguments every client (and every sentinel client) is built with.

        Besides the two socket timeouts: redis-py 8 speaks RESP3 and, by default, sends
        ``CLIENT MAINT_NOTIFICATIONS ON`` on every new connection and *relaxes socket
        timeouts to 10 s* while a server announces maintenance. Both defeat short
        timeouts, so maintenance notifications are turned off.
        """
        return {
            "socket_connect_timeout": self.config.connect_timeout,
            "socket_timeout": self.config.command_timeout,
            **_maintenance_notifications_off(),
        }

    def before_call(self) -> None:
        """Fail fast, without touching the network, while the breaker is open.

        Raises:
            BackendUnavailable: the breaker is open.
        """
        if not self.breaker.allow():
            raise BackendUnavailable(retry_after=self.breaker.retry_after)

    def on_success(self) -> None:
        """Record a successful call; log once when it ends a reported outage."""
        if self.breaker.record_success() and self._outage_reported:
            self._outage_reported = False
            _log.info("redis_recovered", connector=self.name, url=self.config.safe_url)

    def fail(self, exc: Exception) -> NoReturn:
        """Record a failed call and raise what its caller sees: ``BackendUnavailable``
        (``from`` the redis-py error) for an outage, the error itself otherwise."""
        mapped = self.on_error(exc)
        if mapped is None:
            raise exc
        raise mapped from exc

    def on_error(self, exc: BaseException) -> BackendUnavailable | None:
        """Record a failed call and return the error to raise instead, if it is an outage.

        A non-outage error is left to propagate unchanged (``None`` is returned); an error
        reply still proves the server is alive, so it counts as a success for the breaker.
        """
        if self.on_failure is not None and (is_outage(exc) or is_pool_exhausted(exc)):
            self.on_failure(self.name, failure_kind(exc))
        if is_pool_exhausted(exc):
            # Too many concurrent calls in this process says nothing about the server:
            # the call fails soft, but the breaker must not cut every other caller off.
            return BackendUnavailable(retry_after=self.breaker.retry_after)
        if is_outage(exc):
            opened = self.breaker.record_failure()
            suppressed = self._throttle.take()
            if suppressed is not None:
                self._outage_reported = True
                _log.warning(
                    "redis_unavailable",
                    connector=self.name,
                    url=self.config.safe_url,
                    error=type(exc).__name__,
                    detail=str(exc)[:200],
                    breaker=self.breaker.state.value,
                    breaker_opened=opened,
                    cooldown=self.config.breaker_cooldown,
                    suppressed=suppressed,
                )
            return BackendUnavailable(retry_after=self.breaker.retry_after)
        if server_answered(exc):
            self.on_success()
        return None

    def describe(self) -> str:
        """A log- and repr-safe description (no password)."""
        return f"name={self.name!r}, url={self.config.safe_url!r}"


class ScriptHost:
    """The ``registered_client`` of scripts made by a connector.

    redis-py's ``Script`` only needs its registered client for the encoder. Giving it this
    host instead of a real client means registering a script never opens a connection
    (a cluster client connects when built), and a script called without ``client=``,
    outside ``execute()``, fails loudly instead of bypassing the breaker.
    """

    def __init__(self) -> None:
        # redis-py's Encoder is untyped; this is the encoder its clients use by default.
        encoder_class: Any = Encoder
        self._encoder: Encoder = encoder_class(
            encoding="utf-8", encoding_errors="strict", decode_responses=False
        )

    def get_encoder(self) -> Encoder:
        """The encoder of connector-built clients (UTF-8, bytes responses)."""
        return self._encoder

    def _refuse(self, *_args: object, **_kwargs: object) -> Any:
        raise TypeError(
            "run connector scripts inside execute(): "
            "conn.execute(lambda r: script(keys=[...], args=[...], client=r))"
        )

    evalsha = _refuse
    script_load = _refuse
