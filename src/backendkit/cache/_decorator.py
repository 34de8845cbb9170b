"""Cached functions: what ``@cache.cached`` makes of sync functions, async functions and methods.

A cached function knows its cache through the small ``CacheOwner`` protocol and drives
the cache's ``CacheRuntime`` through the shells of ``_shell.py``; ``Cache`` (in
``_cache.py``) builds them, so this module does not depend on it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import typing
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar, cast, overload

from typing_extensions import Self

from backendkit.cache._flow import Plan
from backendkit.cache._keys import EntryKeys, KeyBuilder, KeyMemo, namespace_key, validate_name
from backendkit.cache._ops import Bump, Delete, new_token
from backendkit.cache._policy import Policy
from backendkit.cache._result import CacheResult
from backendkit.cache._runtime import CacheRuntime
from backendkit.cache._serde import Codec
from backendkit.cache._shell import arun, run
from backendkit.cache._stats import CacheStats
from backendkit.clock import Clock
from backendkit.errors import ConfigurationError

__all__ = [
    "FROM_ANNOTATION",
    "AsyncBoundCachedFunction",
    "AsyncCachedFunction",
    "BoundCachedFunction",
    "CacheDecorator",
    "CacheOwner",
    "CachedFunction",
    "FunctionCore",
]

P = ParamSpec("P")
P2 = ParamSpec("P2")
T = TypeVar("T")
S = TypeVar("S")

#: The ``returns`` default: decode into the function's return annotation.
FROM_ANNOTATION: Any = object()


class CacheOwner(Protocol):
    """The cache a cached function stores into, as the function sees it.

    [`Cache`][backendkit.cache.Cache] is the one implementation; a protocol, so that the
    cached functions need nothing from the module that defines it.
    """

    key_prefix: str
    clock: Clock
    rng: random.Random
    stats: CacheStats

    def entry_keys(self, namespace: str, version: str, part: str) -> EntryKeys:
        """The keys of one entry of this cache (prefix applied)."""
        ...


class FunctionCore:
    """What a cached function knows, shared by its sync or async wrapper."""

    def __init__(
        self,
        fn: Callable[..., Any],
        cache: CacheOwner,
        runtime: CacheRuntime,
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
        self.runtime = runtime
        self.keys = KeyBuilder(fn, key=key, ignore=ignore, self_attr=self_attr)
        self.name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
        self.namespace = validate_name(
            namespace if namespace is not None else self.name, "namespace"
        )
        self.version = validate_name(str(version), "version")
        self.stats = CacheStats(self.name, parent=cache.stats)
        if returns is FROM_ANNOTATION:
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
        # Every key of this function extends this one with the arguments' part.
        self._memo = KeyMemo(cache.entry_keys(self.namespace, self.version, ""), self.keys)

    def entry_keys(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EntryKeys:
        if not self._ready:
            # Resolve the return type on first use: a config error surfaces on every
            # call path, including the one taken while the backend is down.
            self.codec.adapter  # noqa: B018
            self._ready = True
        return self._memo.keys(args, kwargs)

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

    _core: FunctionCore

    def _wrap(self, fn: Callable[..., Any], core: FunctionCore) -> None:
        functools.update_wrapper(cast(Any, self), fn)
        self._core = core

    @property
    def cache(self) -> CacheOwner:
        """The [`Cache`][backendkit.cache.Cache] this function stores into."""
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

    def __init__(self, fn: Callable[P, T], core: FunctionCore) -> None:
        self._wrap(fn, core)
        self._fn = fn

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        core = self._core
        keys = core.entry_keys(args, kwargs)
        value: T = run(core.runtime, core.plan, keys, self._fn, args, kwargs, False)
        return value

    def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """Call through the cache and return the value with its outcome and ``degraded``."""
        core = self._core
        keys = core.entry_keys(args, kwargs)
        result: CacheResult[T] = run(core.runtime, core.plan, keys, self._fn, args, kwargs, True)
        return result

    def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the entry of these arguments; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may remain).
        """
        core = self._core
        return bool(core.runtime.invalidate(Delete(core.entry_keys(args, kwargs).entry)))

    def invalidate_all(self) -> None:
        """Invalidate every entry of this function's namespace in O(1) (a new generation).

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        self._core.runtime.invalidate(self._core.bump())

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

    def __init__(self, fn: Callable[P, Awaitable[T]], core: FunctionCore) -> None:
        self._wrap(fn, core)
        self._fn = fn
        _mark_coroutine_function(self)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        core = self._core
        keys = core.entry_keys(args, kwargs)
        value: T = await arun(core.runtime, core.plan, keys, self._fn, args, kwargs, False)
        return value

    async def call_detailed(self, *args: P.args, **kwargs: P.kwargs) -> CacheResult[T]:
        """Call through the cache and return the value with its outcome and ``degraded``."""
        core = self._core
        keys = core.entry_keys(args, kwargs)
        result: CacheResult[T] = await arun(
            core.runtime, core.plan, keys, self._fn, args, kwargs, True
        )
        return result

    async def invalidate(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the entry of these arguments; True if it existed.

        Raises:
            BackendUnavailable: the backend is unavailable (the entry may remain).
        """
        core = self._core
        op = Delete(core.entry_keys(args, kwargs).entry)
        return bool(await core.runtime.ainvalidate(op))

    async def invalidate_all(self) -> None:
        """Invalidate every entry of this function's namespace in O(1) (a new generation).

        Raises:
            BackendUnavailable: the backend is unavailable (nothing was invalidated).
        """
        await self._core.runtime.ainvalidate(self._core.bump())

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

    def __init__(self, build: Callable[[Callable[..., Any]], FunctionCore]) -> None:
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
