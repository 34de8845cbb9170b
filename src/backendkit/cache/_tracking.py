"""The tracking thread: one RESP3 connection on which Redis announces changed keys.

Redis's server-assisted client-side caching in broadcasting mode: on a connection that
speaks RESP3 (``HELLO 3``), ``CLIENT TRACKING ON BCAST PREFIX <key prefix>`` makes the
server push ``invalidate [keys]`` to that connection after every change of a key under
the prefix -- a write, a delete, an expiry, an eviction -- by any client, and
``invalidate null`` after a flush. Broadcasting needs no read on this connection, so the
cache's ordinary connections (and their pools, RESP2 or not) stay as they are.

One daemon thread per cache and process owns the connection, for sync and async callers
alike: the async hot path stays free of awaits, and the thread keeps listening while an
event loop is busy. The thread

* connects (the cache's URL, TLS, credentials and timeouts), turns tracking on, then
  enables the L1 (empty);
* hands every ``invalidate`` push to the L1;
* sends ``PING`` after ``heartbeat`` seconds of silence, so a connection lost without a
  word is noticed;
* on any error disables and empties the L1 first, then reconnects with a backoff (Redis
  forgets tracking with the connection, and a restarted Redis has no memory of it).

Only a standalone server (``redis://``, ``rediss://``, ``unix://``) is tracked: in a
Cluster tracking is per node and a Sentinel failover moves the keys to another server, so
`check_supported` refuses those URLs.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
import redis.retry
from redis.backoff import NoBackoff

from backendkit.cache._local import L1
from backendkit.errors import ConfigurationError
from backendkit.logging import get_logger
from backendkit.redis import RedisConfig

__all__ = ["Tracker", "check_supported"]

_log = get_logger("backendkit.cache")

# Reconnection backoff, in seconds: quick after a restart, gentle on a server that is down.
_FIRST_DELAY = 0.05
_MAX_DELAY = 2.0
# How long close() waits for the thread after waking it.
_JOIN_TIMEOUT = 2.0


def check_supported(config: RedisConfig) -> None:
    """Refuse a URL whose keys the tracking connection cannot follow.

    Raises:
        ConfigurationError: a Cluster or Sentinel URL, or one asking for RESP2 (redis-py
            lets a URL option win over the ``protocol=3`` the tracking connection needs).
    """
    scheme = config.url.partition("://")[0].lower()
    if "+" in scheme:
        raise ConfigurationError(
            "local_cache needs a standalone Redis (redis://, rediss:// or unix://): "
            f"invalidations are not tracked across a {scheme.partition('+')[2]}"
        )
    protocol = parse_qs(urlsplit(config.url).query).get("protocol", ["3"])
    if protocol[-1] != "3":
        raise ConfigurationError(
            "local_cache needs RESP3 for its tracking connection: drop protocol= from the URL"
        )


def _maintenance_off() -> dict[str, Any]:
    # As the connectors do: no CLIENT MAINT_NOTIFICATIONS, no relaxed timeouts.
    try:
        from redis.maint_notifications import MaintNotificationsConfig
    except ImportError:  # pragma: no cover - redis-py before maintenance notifications
        return {}
    return {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


class Tracker:
    """Runs the tracking connection of one L1 in a daemon thread, started on demand.

    Args:
        l1: The L1 to enable, disable and invalidate.
        config: The cache's Redis config (URL and timeouts).
        prefix: The cache's key prefix (tracking covers every key that starts with it).
        heartbeat: Seconds of silence before a ``PING``.
        name: The cache's name (the connection's client name is ``<name>-l1``).
    """

    def __init__(
        self, l1: L1, config: RedisConfig, *, prefix: str, heartbeat: float, name: str
    ) -> None:
        self._l1 = l1
        self._config = config
        self._prefix = prefix
        self._heartbeat = heartbeat
        self._name = name
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._conn: Any = None
        self._broken = False

    def ensure(self) -> None:
        """Start the thread unless it runs in this process (called while the L1 is off)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        if self._pid != os.getpid():
            # A forked child: the parent's thread does not exist here, and its lock may
            # have been held at the fork.
            self._lock = threading.Lock()
            self._pid = os.getpid()
            self._thread = None
            self._conn = None
        with self._lock:
            if self._thread is None:
                self._stop = threading.Event()
                thread = threading.Thread(
                    target=self._run, args=(self._stop,), name=f"{self._name}-l1", daemon=True
                )
                self._thread = thread
                thread.start()

    def stop(self) -> None:
        """Stop the thread and close its connection; the L1 is emptied and off."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._l1.disable()
            conn = self._conn
        if thread is None or self._pid != os.getpid():
            return
        if conn is not None:
            # Wakes the thread from its wait for a push.
            _disconnect(conn)
        thread.join(_JOIN_TIMEOUT)

    # --- the thread ----------------------------------------------------------------------

    def _run(self, stop: threading.Event) -> None:
        delay = _FIRST_DELAY
        failing = False
        while not stop.is_set():
            conn: Any = None
            try:
                conn = self._connect()
                with self._lock:
                    if stop.is_set():
                        break
                    self._conn = conn
                    self._l1.enable()
                if failing:
                    _log.info("cache_tracking_restored", cache=self._name)
                failing = False
                delay = _FIRST_DELAY
                self._listen(conn, stop)
            except Exception as exc:  # any failure means: reconnect
                if not stop.is_set() and not failing:
                    _log.warning("cache_tracking_lost", cache=self._name, error=repr(exc)[:300])
                failing = True
            finally:
                # Before anything else: invalidations may be missed from here on.
                self._l1.disable()
                with self._lock:
                    self._conn = None
                if conn is not None:
                    _disconnect(conn)
            stop.wait(delay)
            delay = min(delay * 2, _MAX_DELAY)

    def _connect(self) -> Any:
        config = self._config
        pool = redis.ConnectionPool.from_url(
            config.url,
            protocol=3,
            socket_connect_timeout=config.connect_timeout,
            socket_timeout=config.command_timeout,
            retry=redis.retry.Retry(NoBackoff(), 0),
            client_name=f"{self._name}-l1",
            **_maintenance_off(),
        )
        conn: Any = pool.make_connection()
        self._broken = False
        # redis-py's own client-side cache registers its handler the same way.
        conn._parser.set_invalidation_push_handler(self._on_push)
        try:
            conn.connect()  # HELLO 3 (with AUTH), SELECT
            command = ["CLIENT", "TRACKING", "ON", "BCAST"]
            if self._prefix:
                command += ["PREFIX", self._prefix]
            conn.send_command(*command)
            reply = conn.read_response()
            if reply not in (b"OK", "OK"):
                raise ConnectionError(f"CLIENT TRACKING answered {reply!r}")
        except BaseException:
            _disconnect(conn)
            raise
        return conn

    def _listen(self, conn: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            if conn.can_read(timeout=self._heartbeat):
                conn.read_response(push_request=True)
            else:
                conn.send_command("PING")
                conn.read_response()  # a push before the PONG goes to the handler
            if self._broken:
                raise ConnectionError("an invalidation could not be applied")

    def _on_push(self, message: list[Any]) -> None:
        # redis-py logs and swallows an exception raised here: remember it instead, so
        # the listener reconnects (and empties the L1) rather than miss an invalidation.
        try:
            keys = message[1]
            self._l1.invalidate(None if keys is None else [_text(k) for k in keys])
        except BaseException:
            self._broken = True
            self._l1.disable()


def _text(key: bytes | str) -> str:
    # Bytes, unless the URL asks redis-py to decode replies (?decode_responses=true).
    return key if isinstance(key, str) else key.decode("utf-8", "replace")


def _disconnect(conn: Any) -> None:
    try:
        conn.disconnect()
    except Exception:  # closing a broken socket may fail; it is gone anyway
        _log.debug("cache_tracking_close_failed")
