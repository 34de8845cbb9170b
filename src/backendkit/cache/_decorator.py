"""``@cached``: cache-aside for sync functions, async functions and methods."""

from __future__ import annotations

import asyncio
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

from typing_extensions import Self

from backendkit.cache import _shell
from backendkit.cache._flow import Bump, Delete, Plan, new_token
from backendkit.cache._keys import EntryKeys, KeyBuilder, namespace_key, validate_name
from backendkit.cache._policy import Policy, Seconds, seconds
from backendkit.cache._result import CacheResult
from backendkit.cache._serde import Codec
from backendkit.cache._stats import CacheStats
from backendkit.errors import ConfigurationError

if TYPE_CHECKING:
    from backendkit.cache._cache import Cache

__all__ = [
    "AsyncBoundCachedFunction",
    "AsyncCachedFunction",
    "BoundCachedFunction",
    "CacheDecorator",
    "CachedFunction",
    "cached",
]

P = ParamSpec("P")
P2 = ParamSpec("P2")
T = TypeVar("T")
S = TypeVar("S")

_UNSET: Any = object()


class _Core:
    """What a cached function knows, shared by its sync or async wrapper."""

    def __init__(
        self,
        fn: Callable[..., Any],
        cache: Cache,
        *,
        policy: Policy,
        namespace: str | None,
        version: str | int,
        key: str | Callable[..., str] | None,
        ignore: Collection[str],
        self_attr: str | None,
        returns: Any,
    ) -> None:
        self.cache = cache
        self.keys = KeyBuilder(fn, key=key, ignore=ignore, self_attr=self_attr)
        self.name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
        self.namespace = validate_name(
            namespace if namespace is not None else self.name, "namespace"
        )
        self.version = validate_name(str(version), "version")
        self.stats = CacheStats(self.name, parent=cache.stats)
        if returns is _UNSET:
            codec: Codec[Any] = Codec(functools.partial(_return_type, fn), resolve=True)
        else:
            codec = Codec(returns)
        self.codec = codec
        self.plan = Plan(
            policy=policy,
            codec=codec,
            clock=cache.clock,
            rng=cache.rng,
            stats=self.stats,
            name=self.name,
        )
        self._ready = False
        # Every key of this function starts with these two fixed parts.
        sample = cache.entry_keys(self.namespace, self.version, "")
        self._head, self._rest = sample._head, sample._rest

    def entry_keys(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EntryKeys:
        if not self._ready:
            # Resolve the return type on first use: a config error surfaces on every
            # call path, including the one taken while the backend is down.
            self.codec.adapter  # noqa: B018
            self._ready = True
        return EntryKeys(self._head, self._rest + self.keys.part(args, kwargs))

    def bump(self) -> Bump:
        return Bump(namespace_key(self.cache.key_prefix, self.namespace), new_token())


def _return_type(fn: Callable[..., Any]) -> Any:
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"cannot resolve the return annotation of {fn.__qualname__} ({exc}); "
            "pass returns=<type> to @cached"
        ) from exc
    if "return" not in hints:
        raise ConfigurationError(
            f"{fn.__qualname__} has no return annotation: cached values are decoded into the "
            "declared return type, so annotate it or pass returns=<type> to @cached"
        )
    return hints["return"]


class _Wrapper:
    """Attributes every cached function exposes."""

    _core: _Core

    def _wrap(self, fn: Callable[..., Any], core: _Core) -> None:
        functools.update_wrapper(cast(Any, self), fn)
        self._core = core

    @property
    def cache(self) -> Cache:
        """The cache this function stores into."""
        return self._core.cache

    @property
    def stats(self) -> CacheStats:
        """This function's counters (also added to the cache's)."""
        return self._core.stats

    @property
    def namespace(self) -> str:
        """The namespace of this function's entries."""
        return self._core.namespace

    @property
    def version(self) -> str:
        """The version segment of this function's keys."""
        return self._core.version

    @property
    def policy(self) -> Policy:
        """TTLs and storage rules of this function."""
        return self._core.plan.policy


class CachedFunction(_Wrapper, Generic[P, T]):
    """A sync function with cache-aside caching (made by [`cached`][backendkit.cache.cached]).

    Call it like the original. Extra methods: ``call_detailed`` (value plus outcome and
    the ``degraded`` flag), ``invalidate`` (one entry), ``invalidate_all`` (the whole
    namespace) and ``key`` (the entry key, for debugging).
    """

    def __init__(self, fn: Callable[P, T], core: _Core) -> None:
        self._wrap(fn, core)
        self._fn = fn

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.call_detailed(*args, **kwargs).value

    def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """Call through the cache and return the value with its outcome and ``degraded``."""
        core = self._core
        keys = core.entry_keys(args, kwargs)
        fn = self._fn
        return _shell.run(core.cache, core.plan, keys, lambda: fn(*args, **kwargs))

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the entry of these arguments; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may remain).
        """
        core = self._core
        return bool(core.cache._invalidate_op(Delete(core.entry_keys(args, kwargs).entry)))

    def invalidate_all(self) -> None:
        """Invalidate every entry of this function's namespace in O(1) (a new generation).

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        self._core.cache._invalidate_op(self._core.bump())

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The cache key these arguments map to."""
        return self._core.entry_keys(args, kwargs).entry

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: CachedFunction[Concatenate[S, P2], T], obj: S, owner: type[Any] | None = None
    ) -> BoundCachedFunction[P2, T]: ...
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return BoundCachedFunction(self, obj)

    def __repr__(self) -> str:
        return f"<cached function {self._core.name} namespace={self._core.namespace!r}>"


class BoundCachedFunction(Generic[P, T]):
    """A cached method bound to its instance: ``repo.get_user(1)``,
    ``repo.get_user.invalidate(1)``."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, func: CachedFunction[Any, T], instance: Any) -> None:
        self.__func__ = func
        self.__self__ = instance

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.__func__.call_detailed(self.__self__, *args, **kwargs).value

    def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """See [`CachedFunction.call_detailed`][backendkit.cache.CachedFunction.call_detailed]."""
        return self.__func__.call_detailed(self.__self__, *args, **kwargs)

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """See [`CachedFunction.invalidate`][backendkit.cache.CachedFunction.invalidate]."""
        return self.__func__.invalidate(self.__self__, *args, **kwargs)

    def invalidate_all(self) -> None:
        """See [`CachedFunction.invalidate_all`][backendkit.cache.CachedFunction.invalidate_all]."""
        self.__func__.invalidate_all()

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """See [`CachedFunction.key`][backendkit.cache.CachedFunction.key]."""
        return self.__func__.key(self.__self__, *args, **kwargs)

    @property
    def stats(self) -> CacheStats:
        """The method's counters."""
        return self.__func__.stats


class AsyncCachedFunction(_Wrapper, Generic[P, T]):
    """An async function with cache-aside caching; the async twin of `CachedFunction`.

    ``await f(...)``, ``await f.call_detailed(...)``, ``await f.invalidate(...)``,
    ``await f.invalidate_all()``; ``f.key(...)`` is plain (no I/O).
    """

    def __init__(self, fn: Callable[P, Awaitable[T]], core: _Core) -> None:
        self._wrap(fn, core)
        self._fn = fn
        _mark_coroutine_function(self)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return (await self.call_detailed(*args, **kwargs)).value

    async def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """Call through the cache and return the value with its outcome and ``degraded``."""
        core = self._core
        keys = core.entry_keys(args, kwargs)
        fn = self._fn
        return await _shell.arun(core.cache, core.plan, keys, lambda: fn(*args, **kwargs))

    async def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the entry of these arguments; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may remain).
        """
        core = self._core
        op = Delete(core.entry_keys(args, kwargs).entry)
        return bool(await core.cache._ainvalidate_op(op))

    async def invalidate_all(self) -> None:
        """Invalidate every entry of this function's namespace in O(1) (a new generation).

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        await self._core.cache._ainvalidate_op(self._core.bump())

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The cache key these arguments map to."""
        return self._core.entry_keys(args, kwargs).entry

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: AsyncCachedFunction[Concatenate[S, P2], T], obj: S, owner: type[Any] | None = None
    ) -> AsyncBoundCachedFunction[P2, T]: ...
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        return AsyncBoundCachedFunction(self, obj)

    def __repr__(self) -> str:
        return f"<cached async function {self._core.name} namespace={self._core.namespace!r}>"


class AsyncBoundCachedFunction(Generic[P, T]):
    """An async cached method bound to its instance."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, func: AsyncCachedFunction[Any, T], instance: Any) -> None:
        self.__func__ = func
        self.__self__ = instance

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return (await self.__func__.call_detailed(self.__self__, *args, **kwargs)).value

    async def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """See `AsyncCachedFunction.call_detailed`."""
        return await self.__func__.call_detailed(self.__self__, *args, **kwargs)

    async def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """See `AsyncCachedFunction.invalidate`."""
        return await self.__func__.invalidate(self.__self__, *args, **kwargs)

    async def invalidate_all(self) -> None:
        """See `AsyncCachedFunction.invalidate_all`."""
        await self.__func__.invalidate_all()

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """See `AsyncCachedFunction.key`."""
        return self.__func__.key(self.__self__, *args, **kwargs)

    @property
    def stats(self) -> CacheStats:
        """The method's counters."""
        return self.__func__.stats


def _mark_coroutine_function(obj: Any) -> None:
    # So frameworks that ask "is this a coroutine function?" (inspect on 3.12+, asyncio's
    # older marker) await it instead of running it in a thread pool.
    mark = getattr(inspect, "markcoroutinefunction", None)
    if mark is not None:  # pragma: no cover - Python 3.12+
        mark(obj)
    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    if marker is not None:
        obj._is_coroutine = marker


class CacheDecorator:
    """What [`cached`][backendkit.cache.cached] returns: apply it to a function."""

    def __init__(self, cache: Cache, build: Callable[[Callable[..., Any]], _Core]) -> None:
        self._cache = cache
        self._build = build

    @overload
    def __call__(  # type: ignore[overload-overlap]
        self, fn: Callable[P, Coroutine[Any, Any, T]]
    ) -> AsyncCachedFunction[P, T]: ...
    @overload
    def __call__(self, fn: Callable[P, T]) -> CachedFunction[P, T]: ...
    def __call__(self, fn: Callable[..., Any]) -> Any:
        if isinstance(fn, (staticmethod, classmethod)):
            raise ConfigurationError(
                "put @cached below @staticmethod/@classmethod, right on the function"
            )
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            raise ConfigurationError("@cached cannot cache a generator: return a list instead")
        core = self._build(fn)
        if inspect.iscoroutinefunction(fn):
            return AsyncCachedFunction(fn, core)
        return CachedFunction(fn, core)


def cached(
    cache: Cache,
    ttl: Seconds,
    *,
    namespace: str | None = None,
    version: str | int = 1,
    key: str | Callable[..., str] | None = None,
    ignore: Collection[str] = (),
    self_attr: str | None = None,
    returns: Any = _UNSET,
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

    def build(fn: Callable[..., Any]) -> _Core:
        return _Core(
            fn,
            cache,
            policy=policy,
            namespace=namespace,
            version=version,
            key=key,
            ignore=ignore,
            self_attr=self_attr,
            returns=returns,
        )

    return CacheDecorator(cache, build)
