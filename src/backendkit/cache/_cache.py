"""`Cache`: one object for sync and async code, on ``memory://`` or Redis.

The cache owns the backend (or the connectors it was handed), the in-process flights, the
counters and the defaults its decorators inherit. The shells that drive the I/O-free flow
of ``_flow.py`` for each call live in ``_shell.py``.
"""

from __future__ import annotations

import random
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload
from urllib.parse import parse_qs, urlsplit

from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind
from backendkit.cache._flow import (
    Bump,
    Delete,
    Op,
    Plan,
    Read,
    Shared,
    Store,
    new_token,
)
from backendkit.cache._keys import EntryKeys, entry_keys, namespace_key, validate_name
from backendkit.cache._memory import MemoryBackend
from backendkit.cache._policy import Policy, Seconds, seconds
from backendkit.cache._serde import Codec, DecodeError, EncodeError, decode_entry, encode_entry
from backendkit.cache._singleflight import AsyncSingleFlight, SingleFlight
from backendkit.cache._stats import CacheStats
from backendkit.clock import Clock, system_clock
from backendkit.errors import BackendUnavailable, ConfigurationError

if TYPE_CHECKING:
    from backendkit.cache._decorator import CacheDecorator
    from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
    from backendkit.settings import Settings

__all__ = ["DEFAULT_NAMESPACE", "Cache"]

T = TypeVar("T")

#: Namespace of entries written through `Cache.get`/`Cache.set` when none is given.
DEFAULT_NAMESPACE = "default"
_DIRECT_VERSION = "1"


class _SyncBackend(Protocol):
    def run(self, op: Op) -> Any: ...


class _AsyncBackend(Protocol):
    async def arun(self, op: Op) -> Any: ...


class Cache:
    """A cache-aside store for sync and async code, in memory or on Redis.

    Build it from a URL or an existing connector, then decorate functions with
    [`cached`][backendkit.cache.Cache.cached]. The same object serves sync functions
    (through a sync Redis connector) and async functions (through an async one); keys,
    serialization and every decision are shared.

    Args:
        backend: ``"memory://"`` (``?max_entries=N``, default 10 000), a Redis URL
            (``redis://``, ``rediss://``, ``unix://``, ``redis+cluster://``,
            ``redis+sentinel://``), a [`RedisConfig`][backendkit.redis.RedisConfig], or an
            existing [`RedisConnector`][backendkit.redis.RedisConnector] /
            [`AsyncRedisConnector`][backendkit.redis.AsyncRedisConnector] to share.
        async_connector: With a sync connector as ``backend``, the async connector to use
            for async functions (by default one is built from the same config).
        key_prefix: Prepended to every key (isolates applications and tests).
        clock: Time source for TTLs (and the memory backend's expiry).
        max_value_bytes: Default size cap of an encoded value; larger values are not stored.
        early_recompute: Default XFetch ``beta`` (0 disables early recomputation).
        lock_ttl: Default lifetime, in seconds, of the cross-process load lock.
        lock_wait: Default longest wait, in seconds, for another process's load.
        rng: Random source for TTL jitter and early recomputation (seed it in tests).
        name: Names this cache in logs and stats.

    Raises:
        ConfigurationError: unknown URL scheme or option, or an invalid setting.
        MissingDependencyError: a Redis backend without the ``redis`` extra installed.

    Example:
        ```python
        cache = Cache("redis://localhost:6379/0", key_prefix="myapp:")

        @cache.cached(ttl=300)
        def get_user(user_id: int) -> User: ...
        ```
    """

    def __init__(
        self,
        backend: str | RedisConfig | RedisConnector | AsyncRedisConnector = "memory://",
        *,
        async_connector: AsyncRedisConnector | None = None,
        key_prefix: str = "bkc:",
        clock: Clock = system_clock,
        max_value_bytes: int = 1_048_576,
        early_recompute: float = 1.0,
        lock_ttl: Seconds = 5.0,
        lock_wait: Seconds = 5.0,
        rng: random.Random | None = None,
        name: str = "cache",
    ) -> None:
        self.key_prefix = validate_name(key_prefix, "key_prefix", allow_empty=True)
        self.clock = clock
        self.name = name
        self.rng = rng if rng is not None else random.Random()  # noqa: S311 - not crypto
        # Validated once here; decorators start from these defaults.
        self.defaults = Policy(
            ttl=1.0,
            max_value_bytes=max_value_bytes,
            early_recompute=early_recompute,
            lock_ttl=seconds(lock_ttl, "lock_ttl"),
            lock_wait=seconds(lock_wait, "lock_wait"),
        )
        self.stats = CacheStats(name)
        self._flights: SingleFlight[Shared] = SingleFlight()
        self._aflights: AsyncSingleFlight[Shared] = AsyncSingleFlight()
        self._lock = threading.Lock()
        self._memory: MemoryBackend | None = None
        self._sync: Any = None
        self._async: Any = None
        self._config: RedisConfig | None = None
        self._given_sync: RedisConnector | None = None
        self._given_async: AsyncRedisConnector | None = async_connector
        self._degraded = False
        self._setup(backend)

    # --- construction --------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Cache:
        """Build a cache from a URL (same as ``Cache(url, **options)``)."""
        return cls(url, **options)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Cache:
        """Redis from ``settings.redis_url`` (with its timeouts and breaker), else memory."""
        if not settings.redis_url:
            return cls("memory://", **options)
        storage_kind(settings.redis_url, refusal=SETTINGS_REFUSAL, memory=False)
        from backendkit.redis import RedisConfig

        return cls(RedisConfig.from_settings(settings), **options)

    def _setup(self, backend: object) -> None:
        if isinstance(backend, str):
            # The scheme first: a wrong URL is named as such, not as a missing redis extra.
            if storage_kind(backend, refusal="unsupported cache backend") == "memory":
                self._memory = _memory_from_url(backend.strip(), self.clock)
                return
            from backendkit.redis import RedisConfig

            self._config = RedisConfig(backend)
            return
        from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

        if isinstance(backend, RedisConfig):
            self._config = backend
        elif isinstance(backend, RedisConnector):
            self._given_sync = backend
            self._config = backend.config
        elif isinstance(backend, AsyncRedisConnector):
            self._given_async = backend
            self._config = backend.config
        else:
            raise ConfigurationError(
                "Cache backend must be a URL, a RedisConfig or a Redis connector, "
                f"not {type(backend).__name__}"
            )

    @property
    def is_memory(self) -> bool:
        """True for the in-process ``memory://`` backend."""
        return self._memory is not None

    def _sync_backend(self) -> _SyncBackend:
        if self._memory is not None:
            return self._memory
        backend = self._sync
        if backend is None:
            with self._lock:
                if self._sync is None:
                    self._sync = self._build_sync()
                backend = self._sync
        return cast(_SyncBackend, backend)

    def _build_sync(self) -> Any:
        from backendkit.cache._redis import RedisBackend, wait_config
        from backendkit.redis import RedisConnector

        assert self._config is not None
        given = self._given_sync
        main = given or RedisConnector(self._config, clock=self.clock, name=self.name)
        waiter = RedisConnector(
            wait_config(main.config, self.defaults.lock_wait),
            clock=self.clock,
            name=f"{self.name}-wait",
        )
        return RedisBackend(main, waiter, clock=self.clock, owns_connector=given is None)

    def _async_backend(self) -> _AsyncBackend:
        if self._memory is not None:
            return self._memory
        if self._async is None:
            # No await in between: two tasks cannot both build it.
            self._async = self._build_async()
        return cast(_AsyncBackend, self._async)

    def _build_async(self) -> Any:
        from backendkit.cache._redis import AsyncRedisBackend, wait_config
        from backendkit.redis import AsyncRedisConnector

        assert self._config is not None
        given = self._given_async
        main = given or AsyncRedisConnector(self._config, clock=self.clock, name=self.name)
        waiter = AsyncRedisConnector(
            wait_config(main.config, self.defaults.lock_wait),
            clock=self.clock,
            name=f"{self.name}-wait",
        )
        return AsyncRedisBackend(main, waiter, clock=self.clock, owns_connector=given is None)

    # --- state -------------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while the backend is failing: the last operation on it was refused.

        Set by an outage (or an open breaker), cleared by the next successful operation.
        Per call, ``call_detailed(...).degraded`` is exact; this flag suits health checks.
        """
        return self._degraded

    def cached(self, ttl: Seconds, **options: Any) -> CacheDecorator:
        """Decorate a sync or async function or method with cache-aside caching.

        Same as [`cached(self, ttl, ...)`][backendkit.cache.cached]; see it for options.
        """
        from backendkit.cache._decorator import cached

        return cached(self, ttl, **options)

    def entry_keys(self, namespace: str, version: str, part: str) -> EntryKeys:
        """The keys of one entry of this cache (prefix applied)."""
        return entry_keys(self.key_prefix, namespace, version, part)

    def _backend_failed(self, plan: Plan | None) -> None:
        self._degraded = True
        (plan.stats if plan is not None else self.stats).incr("errors")

    # --- direct access -------------------------------------------------------------------

    def _direct_keys(self, key: str, namespace: str) -> EntryKeys:
        if not isinstance(key, str) or not key:
            raise ValueError("a cache key must be a non-empty string")
        validate_name(namespace, "namespace")
        return self.entry_keys(namespace, _DIRECT_VERSION, "k:" + key)

    def _decode_direct(self, reply: tuple[bytes | None, bytes | None], codec: Codec[T]) -> Any:
        gen, raw = reply
        entry = decode_entry(raw) if raw is not None and gen is not None else None
        if entry is None or entry.gen != gen or self.clock.now() >= entry.fresh_until:
            return _MISSING
        try:
            return codec.loads(entry.payload)
        except DecodeError:
            self.stats.incr("errors")
            return _MISSING

    def _encode_direct(
        self, key: str, value: Any, ttl: Seconds, returns: Any, namespace: str
    ) -> tuple[EntryKeys, float, bytes | None]:
        keys = self._direct_keys(key, namespace)
        fresh = seconds(ttl, "ttl")
        codec: Codec[Any] = Codec(type(value) if returns is None else returns)
        try:
            payload = codec.dumps(value)
        except EncodeError:
            self.stats.incr("errors")
            return keys, fresh, None
        if len(payload) > self.defaults.max_value_bytes:
            return keys, fresh, None
        return keys, fresh, payload

    @overload
    def get(self, key: str, returns: type[T], *, namespace: str = ...) -> T | None: ...
    @overload
    def get(self, key: str, returns: type[T], *, namespace: str = ..., default: T) -> T: ...
    def get(
        self, key: str, returns: Any, *, namespace: str = DEFAULT_NAMESPACE, default: Any = None
    ) -> Any:
        """Read ``key`` decoded as ``returns``; ``default`` when absent, expired or undecodable.

        Keys are shared with decorators that use the same namespace and a ``key=``
        template at version 1. An unavailable backend reads as a miss (see `degraded`).
        """
        keys = self._direct_keys(key, namespace)
        try:
            reply = self._sync_backend().run(Read(keys))
            self._degraded = False
        except BackendUnavailable:
            self._backend_failed(None)
            return default
        value = self._decode_direct(reply, Codec(returns))
        return default if value is _MISSING else value

    async def aget(
        self, key: str, returns: Any, *, namespace: str = DEFAULT_NAMESPACE, default: Any = None
    ) -> Any:
        """Async twin of [`get`][backendkit.cache.Cache.get]."""
        keys = self._direct_keys(key, namespace)
        try:
            reply = await self._async_backend().arun(Read(keys))
            self._degraded = False
        except BackendUnavailable:
            self._backend_failed(None)
            return default
        value = self._decode_direct(reply, Codec(returns))
        return default if value is _MISSING else value

    def set(
        self,
        key: str,
        value: Any,
        *,
        ttl: Seconds,
        returns: Any = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> bool:
        """Store ``value`` under ``key`` for ``ttl``; True when it was stored.

        ``returns`` is the type to serialize as (default: ``type(value)``). Values over the
        size cap or not serializable are not stored; an unavailable backend returns False.
        """
        keys, fresh, payload = self._encode_direct(key, value, ttl, returns, namespace)
        if payload is None:
            return False
        backend = self._sync_backend()
        try:
            gen = backend.run(Read(keys))[0]
            if gen is None:
                gen = new_token()
                backend.run(Bump(keys.namespace, gen))
            raw = encode_entry(gen, self.clock.now() + fresh, 0.0, payload)
            backend.run(Store(keys, raw, max(1, round(fresh * 1000)), None, 1))
            self._degraded = False
        except BackendUnavailable:
            self._backend_failed(None)
            return False
        return True

    async def aset(
        self,
        key: str,
        value: Any,
        *,
        ttl: Seconds,
        returns: Any = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> bool:
        """Async twin of [`set`][backendkit.cache.Cache.set]."""
        keys, fresh, payload = self._encode_direct(key, value, ttl, returns, namespace)
        if payload is None:
            return False
        backend = self._async_backend()
        try:
            gen = (await backend.arun(Read(keys)))[0]
            if gen is None:
                gen = new_token()
                await backend.arun(Bump(keys.namespace, gen))
            raw = encode_entry(gen, self.clock.now() + fresh, 0.0, payload)
            await backend.arun(Store(keys, raw, max(1, round(fresh * 1000)), None, 1))
            self._degraded = False
        except BackendUnavailable:
            self._backend_failed(None)
            return False
        return True

    def delete(self, key: str, *, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Delete ``key``; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may still be there).
        """
        return bool(self._invalidate_op(Delete(self._direct_keys(key, namespace).entry)))

    async def adelete(self, key: str, *, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Async twin of [`delete`][backendkit.cache.Cache.delete]."""
        op = Delete(self._direct_keys(key, namespace).entry)
        return bool(await self._ainvalidate_op(op))

    def invalidate_namespace(self, namespace: str) -> None:
        """Invalidate every entry of ``namespace`` at once, in O(1).

        The namespace gets a new generation (one ``SET``, no ``KEYS`` or ``SCAN``); entries
        written under the old one are misses from now on and expire on their own.

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        self._invalidate_op(self._bump_op(namespace))

    async def ainvalidate_namespace(self, namespace: str) -> None:
        """Async twin of [`invalidate_namespace`][backendkit.cache.Cache.invalidate_namespace]."""
        await self._ainvalidate_op(self._bump_op(namespace))

    def _bump_op(self, namespace: str) -> Bump:
        validate_name(namespace, "namespace")
        return Bump(namespace_key(self.key_prefix, namespace), new_token())

    def _invalidate_op(self, op: Op) -> Any:
        try:
            result = self._sync_backend().run(op)
        except BackendUnavailable:
            self._backend_failed(None)
            raise
        self._degraded = False
        return result

    async def _ainvalidate_op(self, op: Op) -> Any:
        try:
            result = await self._async_backend().arun(op)
        except BackendUnavailable:
            self._backend_failed(None)
            raise
        self._degraded = False
        return result

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync connections this cache opened (connectors passed in stay open)."""
        backend, self._sync = self._sync, None
        if backend is not None:
            backend.close()

    async def aclose(self) -> None:
        """Close the async connections this cache opened (connectors passed in stay open)."""
        backend, self._async = self._async, None
        if backend is not None:
            await backend.aclose()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Cache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        self.close()

    def __repr__(self) -> str:
        where = "memory" if self._memory is not None else repr(self._config)
        return f"Cache(name={self.name!r}, backend={where}, key_prefix={self.key_prefix!r})"


_MISSING: Any = object()


def _memory_from_url(url: str, clock: Clock) -> MemoryBackend:
    parts = urlsplit(url)
    if parts.netloc or parts.path not in ("", "/"):
        # Never the URL itself: a host part may carry credentials.
        raise ConfigurationError("a memory:// cache URL takes no host or path")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - {"max_entries"})
    if unknown:
        raise ConfigurationError(f"unknown memory:// cache option(s) {unknown!r}")
    raw = options.get("max_entries", ["10000"])[-1]
    if not raw.isdigit():
        raise ConfigurationError(f"max_entries must be a positive integer, got {raw!r}")
    return MemoryBackend(int(raw), clock=clock)
