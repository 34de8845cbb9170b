"""`Cache` and `cached`: one cache for sync and async code, on ``memory://`` or Redis.

The cache holds what its decorators inherit (key prefix, clock, defaults, counters) and
a ``CacheRuntime`` (``_runtime.py``): the backend, the in-process flights and the
degraded flag, which its direct reads and writes and its cached functions drive. The
cached functions themselves live in ``_decorator.py``, which needs nothing from here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from backendkit._storage_url import SETTINGS_REFUSAL, storage_kind
from backendkit.cache._decorator import FROM_ANNOTATION, CacheDecorator, FunctionCore
from backendkit.cache._keys import EntryKeys, entry_keys, namespace_key, validate_name
from backendkit.cache._local import LocalCache
from backendkit.cache._ops import Bump, Delete, new_token
from backendkit.cache._policy import Policy, Seconds, seconds
from backendkit.cache._runtime import MISSING, CacheRuntime
from backendkit.cache._serde import Codec
from backendkit.cache._stats import CacheStats
from backendkit.clock import Clock, system_clock

if TYPE_CHECKING:
    from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector
    from backendkit.settings import Settings

__all__ = ["DEFAULT_NAMESPACE", "Cache", "cached"]

T = TypeVar("T")

#: Namespace of entries written through `Cache.get`/`Cache.set` when none is given.
DEFAULT_NAMESPACE = "default"
_DIRECT_VERSION = "1"


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
        local_cache: A [`LocalCache`][backendkit.cache.LocalCache] to keep an in-process
            L1 in front of Redis, kept coherent by Redis's client-side caching (off by
            default; standalone Redis only, see the cache guide).

    Raises:
        ConfigurationError: unknown URL scheme or option, an invalid setting, or a
            ``local_cache`` with ``memory://``, a Cluster or a Sentinel URL.
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
        local_cache: LocalCache | None = None,
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
        self._runtime = CacheRuntime(
            backend,
            async_connector=async_connector,
            clock=clock,
            name=name,
            stats=self.stats,
            defaults=self.defaults,
            local_cache=local_cache,
            key_prefix=self.key_prefix,
        )

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

    @property
    def is_memory(self) -> bool:
        """True for the in-process ``memory://`` backend."""
        return self._runtime.is_memory

    # --- state -------------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while the backend is failing: the last operation on it was refused.

        Set by an outage (or an open breaker), cleared by the next successful operation.
        Per call, ``call_detailed(...).degraded`` is exact; this flag suits health checks.
        """
        return self._runtime.degraded

    @property
    def local_entries(self) -> int:
        """Entries in the in-process L1 now (0 without ``local_cache``, or while its
        tracking connection is down)."""
        local = self._runtime.local
        return 0 if local is None else len(local)

    def cached(self, ttl: Seconds, **options: Any) -> CacheDecorator:
        """Decorate a sync or async function or method with cache-aside caching.

        Same as [`cached(self, ttl, ...)`][backendkit.cache.cached]; see it for options.
        """
        return cached(self, ttl, **options)

    def entry_keys(self, namespace: str, version: str, part: str) -> EntryKeys:
        """The keys of one entry of this cache (prefix applied)."""
        return entry_keys(self.key_prefix, namespace, version, part)

    # --- direct access -------------------------------------------------------------------

    def _direct_keys(self, key: str, namespace: str) -> EntryKeys:
        if not isinstance(key, str) or not key:
            raise ValueError("a cache key must be a non-empty string")
        validate_name(namespace, "namespace")
        return self.entry_keys(namespace, _DIRECT_VERSION, "k:" + key)

    def _encode_direct(
        self, key: str, value: Any, ttl: Seconds, returns: Any, namespace: str
    ) -> tuple[EntryKeys, float, bytes | None]:
        keys = self._direct_keys(key, namespace)
        fresh = seconds(ttl, "ttl")
        codec: Codec[Any] = Codec(type(value) if returns is None else returns)
        return keys, fresh, self._runtime.encode(value, codec)

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
        value = self._runtime.read(self._direct_keys(key, namespace), Codec(returns))
        return default if value is MISSING else value

    async def aget(
        self, key: str, returns: Any, *, namespace: str = DEFAULT_NAMESPACE, default: Any = None
    ) -> Any:
        """Async twin of [`get`][backendkit.cache.Cache.get]."""
        value = await self._runtime.aread(self._direct_keys(key, namespace), Codec(returns))
        return default if value is MISSING else value

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
        return payload is not None and self._runtime.write(keys, payload, fresh)

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
        return payload is not None and await self._runtime.awrite(keys, payload, fresh)

    def delete(self, key: str, *, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Delete ``key``; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may still be there).
        """
        return bool(self._runtime.invalidate(Delete(self._direct_keys(key, namespace).entry)))

    async def adelete(self, key: str, *, namespace: str = DEFAULT_NAMESPACE) -> bool:
        """Async twin of [`delete`][backendkit.cache.Cache.delete]."""
        op = Delete(self._direct_keys(key, namespace).entry)
        return bool(await self._runtime.ainvalidate(op))

    def invalidate_namespace(self, namespace: str) -> None:
        """Invalidate every entry of ``namespace`` at once, in O(1).

        The namespace gets a new generation (one ``SET``, no ``KEYS`` or ``SCAN``); entries
        written under the old one are misses from now on and expire on their own.

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        self._runtime.invalidate(self._bump_op(namespace))

    async def ainvalidate_namespace(self, namespace: str) -> None:
        """Async twin of [`invalidate_namespace`][backendkit.cache.Cache.invalidate_namespace]."""
        await self._runtime.ainvalidate(self._bump_op(namespace))

    def _bump_op(self, namespace: str) -> Bump:
        validate_name(namespace, "namespace")
        return Bump(namespace_key(self.key_prefix, namespace), new_token())

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync connections this cache opened (connectors passed in stay open).

        With a ``local_cache``, also stops its tracking thread and empties it.
        """
        self._runtime.close()

    async def aclose(self) -> None:
        """Close the async connections this cache opened (connectors passed in stay open)."""
        await self._runtime.aclose()

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
        runtime = self._runtime
        where = "memory" if runtime.is_memory else repr(runtime.config)
        return f"Cache(name={self.name!r}, backend={where}, key_prefix={self.key_prefix!r})"


def cached(
    cache: Cache,
    ttl: Seconds,
    *,
    namespace: str | None = None,
    version: str | int = 1,
    key: str | Callable[..., str] | None = None,
    ignore: Collection[str] = (),
    self_attr: str | None = None,
    returns: Any = FROM_ANNOTATION,
    jitter: float = 0.0,
    stale_ttl: Seconds = 0,
    early_recompute: float | None = None,
    cache_none: bool = False,
    none_ttl: Seconds | None = None,
    condition: Callable[[Any], bool] | None = None,
    max_value_bytes: int | None = None,
    lock_ttl: Seconds | None = None,
    lock_wait: Seconds | None = None,
) -> CacheDecorator:
    """Cache-aside for a sync or async function or method.

    The first call loads (runs the function) and stores; later calls read. Concurrent
    misses of one key run the function once per process (single-flight) and, on Redis,
    once across processes (a short lock; the others wait for its result).

    Args:
        cache: The [`Cache`][backendkit.cache.Cache] to store into.
        ttl: How long an entry stays fresh (seconds or ``timedelta``).
        namespace: Groups entries for ``invalidate_all()`` and
            ``Cache.invalidate_namespace()``; defaults to the function's qualified name.
            On Redis Cluster a namespace lives in one hash slot.
        version: Bump it when the cached shape changes (a deploy then reads no old entries).
        key: Custom key: a ``str.format`` template naming parameters (``"user:{user_id}"``)
            or a callable taking the function's arguments and returning a string.
        ignore: Parameters left out of the key (a session, a logger).
        self_attr: For methods, key the instance by this attribute (``"tenant_id"``);
            by default ``self``/``cls`` are not part of the key.
        returns: The type to decode into; defaults to the return annotation.
        jitter: Fraction in ``[0, 1)``: each TTL is drawn from ``[ttl*(1-jitter), ttl]``.
        stale_ttl: Keep entries this long past ``ttl`` and serve them stale while one
            caller refreshes (0: off).
        early_recompute: XFetch ``beta`` (default: the cache's, 1.0; 0 disables).
        cache_none: Store ``None`` results (by default they are not stored).
        none_ttl: TTL of a stored ``None`` (default: ``ttl``).
        condition: Store a value only when ``condition(value)`` is true.
        max_value_bytes: Size cap of the encoded value (default: the cache's, 1 MiB).
        lock_ttl: Lifetime of the cross-process load lock (default: the cache's, 5 s).
        lock_wait: Longest wait for another process's load (default: the cache's, 5 s).

    Raises:
        ConfigurationError: an invalid option, a generator function, an unknown parameter
            in ``ignore`` or ``key``.

    Example:
        ```python
        @cached(cache, ttl=timedelta(minutes=5), namespace="users")
        async def get_user(user_id: UUID) -> User: ...

        user = await get_user(uid)
        await get_user.invalidate(uid)
        ```
    """
    if namespace is not None:
        validate_name(namespace, "namespace")
    validate_name(str(version), "version")
    defaults = cache.defaults
    policy = Policy(
        ttl=seconds(ttl, "ttl"),
        jitter=jitter,
        stale_ttl=seconds(stale_ttl, "stale_ttl", allow_zero=True),
        early_recompute=defaults.early_recompute if early_recompute is None else early_recompute,
        cache_none=cache_none,
        none_ttl=None if none_ttl is None else seconds(none_ttl, "none_ttl"),
        condition=condition,
        max_value_bytes=defaults.max_value_bytes if max_value_bytes is None else max_value_bytes,
        lock_ttl=defaults.lock_ttl if lock_ttl is None else seconds(lock_ttl, "lock_ttl"),
        lock_wait=defaults.lock_wait if lock_wait is None else seconds(lock_wait, "lock_wait"),
    )

    def build(fn: Callable[..., Any]) -> FunctionCore:
        return FunctionCore(
            fn,
            cache,
            cache._runtime,
            policy=policy,
            namespace=namespace,
            version=version,
            key=key,
            ignore=ignore,
            self_attr=self_attr,
            returns=returns,
        )

    return CacheDecorator(build)
