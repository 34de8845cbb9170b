"""The Redis backends: the flow's operations as Redis commands, sync and async (I/O only).

Everything goes through the foundation's connectors
([`RedisConnector`][backendkit.redis.RedisConnector] and its async twin): short timeouts,
no retries, a circuit breaker, outages raised as ``BackendUnavailable``. Any other error a
backend meets (an unexpected reply, say) is logged and raised as ``BackendUnavailable``
too: a cache problem must never become the caller's problem.

Blocking waits (``XREAD BLOCK``) run on a second connector to the same server whose
command timeout covers the wait; the first connector keeps its short timeout.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, cast

from backendkit._extras import require

require("redis", "redis")

from redis.commands.core import AsyncScript, Script
from redis.exceptions import NoScriptError

from backendkit.cache._keys import EntryKeys
from backendkit.cache._lock import (
    ACQUIRE,
    FETCH,
    RELEASE,
    STORE,
    parse_acquire,
    parse_fetch,
    parse_wake,
)
from backendkit.cache._ops import (
    Acquire,
    AcquireReply,
    Bump,
    Delete,
    Op,
    Release,
    Store,
    TryLock,
    Wait,
)
from backendkit.clock import Clock
from backendkit.errors import BackendUnavailable
from backendkit.logging import get_logger
from backendkit.redis import (
    AsyncRedisClient,
    AsyncRedisConnector,
    RedisClient,
    RedisConfig,
    RedisConnector,
)

__all__ = ["AsyncRedisBackend", "RedisBackend", "wait_config"]

_log = get_logger("backendkit.cache")


def wait_config(config: RedisConfig, lock_wait: float) -> RedisConfig:
    """The config of the connector for blocking waits: same server, longer reads."""
    return replace(config, command_timeout=config.command_timeout + lock_wait)


def _block_ms(timeout: float, cap: float) -> int:
    return max(1, math.ceil(min(timeout, cap) * 1000))


def _xread(op: Wait, block: int) -> Callable[[RedisClient], Any]:
    def read(r: RedisClient) -> Any:
        return r.xread({op.keys.wake: op.wake_id}, count=1, block=block)

    return read


def _axread(op: Wait, block: int) -> Callable[[AsyncRedisClient], Awaitable[Any]]:
    async def read(r: AsyncRedisClient) -> Any:
        return await r.xread({op.keys.wake: op.wake_id}, count=1, block=block)

    return read


def _unexpected(exc: Exception, operation: str) -> BackendUnavailable:
    _log.error("cache_backend_error", operation=operation, error=repr(exc)[:300])
    return BackendUnavailable()


def _fetch_names(keys: EntryKeys) -> list[str]:
    return [keys.namespace, keys.entry, keys.lock, keys.wake]


def _evalsha(connector: RedisConnector, script: Script, keys: list[str], *args: Any) -> Any:
    """Run ``script`` by its SHA1 through the connector's ``command``, loading it once if
    the server lacks it.

    What redis-py's ``Script.__call__`` does, minus its per-call import, pipeline check and
    ``execute_command`` (a cached call's read and store each run one).
    """
    try:
        return connector.command("EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        connector.execute(lambda r: r.script_load(script.script))
        return connector.command("EVALSHA", script.sha, len(keys), *keys, *args)


async def _aevalsha(
    connector: AsyncRedisConnector, script: AsyncScript, keys: list[str], *args: Any
) -> Any:
    """Async twin of `_evalsha`."""
    try:
        return await connector.command("EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        await connector.execute(lambda r: r.script_load(script.script))
        return await connector.command("EVALSHA", script.sha, len(keys), *keys, *args)


class RedisBackend:
    """Sync Redis backend.

    Args:
        connector: The shared connector (short timeouts, breaker).
        wait_connector: Connector for blocking waits; its command timeout minus the main
            one's is the longest single ``XREAD BLOCK`` (longer waits take a few).
        clock: Measures waits.
        owns_connector: Close ``connector`` in `close` (False for a connector passed in).
    """

    def __init__(
        self,
        connector: RedisConnector,
        wait_connector: RedisConnector,
        *,
        clock: Clock,
        owns_connector: bool,
    ) -> None:
        self.connector = connector
        self._clock = clock
        self._owns = owns_connector
        self.wait_connector = wait_connector
        self._cap = wait_connector.config.command_timeout - connector.config.command_timeout
        self._fetch = connector.register_script(FETCH)
        self._acquire = connector.register_script(ACQUIRE)
        self._store = connector.register_script(STORE)
        self._release = connector.register_script(RELEASE)

    def read(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """The namespace generation and the entry, ``(gen, raw)``: one ``MGET``."""
        try:
            # The connector's cheapest call: a hit is mostly this read.
            gen, raw = self.connector.command("MGET", keys.namespace, keys.entry)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, "Read") from exc
        return gen, raw

    def fetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """A cached call's read (``FETCH``): the entry, or else the lock for ``token``."""
        script, names = self._fetch, _fetch_names(keys)
        try:
            return parse_fetch(_evalsha(self.connector, script, names, token, lock_px))
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, "Fetch") from exc

    def run(self, op: Op) -> Any:
        """Perform one operation; every failure is ``BackendUnavailable``."""
        try:
            return self._run(op)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, type(op).__name__) from exc

    def _run(self, op: Op) -> Any:
        kind = type(op)
        if kind is Acquire:
            a = cast(Acquire, op)
            k = a.keys
            names = [k.namespace, k.entry, k.lock, k.wake]
            args = (a.token, a.lock_px, a.new_gen, a.now_ms)
            reply = _evalsha(self.connector, self._acquire, names, *args)
            return parse_acquire(reply)
        if kind is Store:
            s = cast(Store, op)
            k = s.keys
            token = s.token
            if token is None:
                return self.connector.command("SET", k.entry, s.raw, "PX", s.px)
            names = [k.entry, k.lock, k.wake]
            args = (s.raw, s.px, token, s.notify_px)
            return _evalsha(self.connector, self._store, names, *args)
        if kind is Wait:
            return self._wait(cast(Wait, op))
        if kind is TryLock:
            t = cast(TryLock, op)
            return bool(self.connector.command("SET", t.keys.lock, t.token, "NX", "PX", t.lock_px))
        if kind is Release:
            rel = cast(Release, op)
            k = rel.keys
            names = [k.lock, k.wake]
            return _evalsha(self.connector, self._release, names, rel.token, rel.notify_px)
        if kind is Delete:
            key = cast(Delete, op).key
            return bool(self.connector.command("DEL", key))
        if kind is Bump:
            b = cast(Bump, op)
            return self.connector.command("SET", b.key, b.gen)
        raise TypeError(f"unknown cache operation {op!r}")  # pragma: no cover

    def _wait(self, op: Wait) -> bytes | None:
        remaining = op.timeout
        clock = self._clock
        while remaining > 0:
            block = _block_ms(remaining, self._cap)
            started = clock.monotonic()
            reply = self.wait_connector.execute(_xread(op, block))
            woken = parse_wake(reply)
            if woken is not None:
                return woken
            remaining -= max(block / 1000.0, clock.monotonic() - started)
        return None

    def close(self) -> None:
        """Close the wait connector, and the main one if this backend built it."""
        if self._owns:
            self.connector.close()
        self.wait_connector.close()


class AsyncRedisBackend:
    """Async Redis backend: the same commands as `RedisBackend`, awaited."""

    def __init__(
        self,
        connector: AsyncRedisConnector,
        wait_connector: AsyncRedisConnector,
        *,
        clock: Clock,
        owns_connector: bool,
    ) -> None:
        self.connector = connector
        self._clock = clock
        self._owns = owns_connector
        self.wait_connector = wait_connector
        self._cap = wait_connector.config.command_timeout - connector.config.command_timeout
        self._fetch = connector.register_script(FETCH)
        self._acquire = connector.register_script(ACQUIRE)
        self._store = connector.register_script(STORE)
        self._release = connector.register_script(RELEASE)

    async def aread(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """Async twin of [`RedisBackend.read`][backendkit.cache._redis.RedisBackend.read]."""
        try:
            gen, raw = await self.connector.command("MGET", keys.namespace, keys.entry)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, "Read") from exc
        return gen, raw

    async def afetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """Async twin of [`RedisBackend.fetch`][backendkit.cache._redis.RedisBackend.fetch]."""
        script, names = self._fetch, _fetch_names(keys)
        try:
            return parse_fetch(await _aevalsha(self.connector, script, names, token, lock_px))
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, "Fetch") from exc

    async def arun(self, op: Op) -> Any:
        """Perform one operation; every failure is ``BackendUnavailable``."""
        try:
            return await self._run(op)
        except BackendUnavailable:
            raise
        except Exception as exc:
            raise _unexpected(exc, type(op).__name__) from exc

    async def _run(self, op: Op) -> Any:
        kind = type(op)
        if kind is Acquire:
            a = cast(Acquire, op)
            k = a.keys
            names = [k.namespace, k.entry, k.lock, k.wake]
            args = (a.token, a.lock_px, a.new_gen, a.now_ms)
            reply = await _aevalsha(self.connector, self._acquire, names, *args)
            return parse_acquire(reply)
        if kind is Store:
            s = cast(Store, op)
            k = s.keys
            token = s.token
            if token is None:
                return await self.connector.command("SET", k.entry, s.raw, "PX", s.px)
            names = [k.entry, k.lock, k.wake]
            args = (s.raw, s.px, token, s.notify_px)
            return await _aevalsha(self.connector, self._store, names, *args)
        if kind is Wait:
            return await self._wait(cast(Wait, op))
        if kind is TryLock:
            t = cast(TryLock, op)
            return bool(
                await self.connector.command("SET", t.keys.lock, t.token, "NX", "PX", t.lock_px)
            )
        if kind is Release:
            rel = cast(Release, op)
            k = rel.keys
            names = [k.lock, k.wake]
            return await _aevalsha(self.connector, self._release, names, rel.token, rel.notify_px)
        if kind is Delete:
            key = cast(Delete, op).key
            return bool(await self.connector.command("DEL", key))
        if kind is Bump:
            b = cast(Bump, op)
            return await self.connector.command("SET", b.key, b.gen)
        raise TypeError(f"unknown cache operation {op!r}")  # pragma: no cover

    async def _wait(self, op: Wait) -> bytes | None:
        remaining = op.timeout
        clock = self._clock
        while remaining > 0:
            block = _block_ms(remaining, self._cap)
            started = clock.monotonic()
            reply = await self.wait_connector.execute(_axread(op, block))
            woken = parse_wake(reply)
            if woken is not None:
                return woken
            remaining -= max(block / 1000.0, clock.monotonic() - started)
        return None

    async def aclose(self) -> None:
        """Close the wait connector, and the main one if this backend built it."""
        if self._owns:
            await self.connector.aclose()
        await self.wait_connector.aclose()
