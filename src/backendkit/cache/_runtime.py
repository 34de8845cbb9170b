"""What one cache runs on: its backend, its in-process flights and its health flag.

A [`Cache`][backendkit.cache.Cache] is the public face; this is the part that its direct
reads and writes, the per-call shells (``_shell.py``) and the cached functions drive. It
holds the ``memory://`` backend, or the Redis config (or connectors passed in) from which
the Redis backends are built on first use, one per flavour; the single-flights that let
concurrent calls of one key read and load once per process; whether the backend failed
last; and the opt-in in-process L1 with its tracking thread (``_local.py``,
``_tracking.py``), told at once of this process's own deletes, writes and bumps.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import parse_qs, urlsplit

from backendkit._storage_url import storage_kind
from backendkit.cache._flow import Shared
from backendkit.cache._hints import FreshHints
from backendkit.cache._keys import EntryKeys
from backendkit.cache._local import L1, LocalCache
from backendkit.cache._memory import MemoryBackend
from backendkit.cache._ops import AcquireReply, Bump, Delete, Op, Store, new_token
from backendkit.cache._policy import Policy
from backendkit.cache._serde import Codec, DecodeError, EncodeError, decode_entry, encode_entry
from backendkit.cache._singleflight import AsyncSingleFlight, SingleFlight
from backendkit.cache._stats import CacheStats
from backendkit.clock import Clock
from backendkit.errors import BackendUnavailable, ConfigurationError

if TYPE_CHECKING:
    from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

__all__ = ["MISSING", "AsyncBackend", "CacheRuntime", "SyncBackend"]

#: What a direct read returns for an absent, expired or undecodable entry.
MISSING: Any = object()


class SyncBackend(Protocol):
    """A backend driven with plain calls (memory, or Redis through a sync connector)."""

    def read(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """The namespace generation and the entry, ``(gen, raw)``."""
        ...

    def fetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """A cached call's read: the entry, or else the load lock for ``token``."""
        ...

    def run(self, op: Op) -> Any:
        """Carry out one backend operation of the flow."""
        ...


class AsyncBackend(Protocol):
    """A backend driven with awaits (memory, or Redis through an async connector)."""

    async def aread(self, keys: EntryKeys) -> tuple[bytes | None, bytes | None]:
        """The namespace generation and the entry, ``(gen, raw)``."""
        ...

    async def afetch(self, keys: EntryKeys, token: bytes, lock_px: int) -> bytes | AcquireReply:
        """A cached call's read: the entry, or else the load lock for ``token``."""
        ...

    async def arun(self, op: Op) -> Any:
        """Carry out one backend operation of the flow."""
        ...


class CacheRuntime:
    """The backend, flights and health of one cache (internal to the cache package).

    Args:
        backend: what [`Cache`][backendkit.cache.Cache] was given: a URL, a Redis config
            or a Redis connector.
        async_connector: the async connector paired with a sync one, if any.
        clock: the cache's clock (expiry, the connectors' breakers).
        name: the cache's name, given to the connectors built here.
        stats: the cache's counters (errors of direct reads, writes and invalidations).
        defaults: the cache's policy: ``lock_wait`` (the blocking connector's read timeout
            covers it) and ``max_value_bytes`` (the cap of a direct write).
        local_cache: the options of the in-process L1 (``_local.py``), or ``None``.
        key_prefix: the cache's key prefix (what the L1's tracking follows).

    Raises:
        ConfigurationError: unknown URL scheme or memory option, a backend of another
            type, or a ``local_cache`` on a backend it cannot track.
        MissingDependencyError: a Redis backend without the ``redis`` extra installed.
    """

    def __init__(
        self,
        backend: object,
        *,
        async_connector: AsyncRedisConnector | None,
        clock: Clock,
        name: str,
        stats: CacheStats,
        defaults: Policy,
        local_cache: LocalCache | None = None,
        key_prefix: str = "",
    ) -> None:
        self.clock = clock
        self.name = name
        self.stats = stats
        self.defaults = defaults
        #: Concurrent calls of one key: one reads (and loads), the others wait for it.
        self.flights: SingleFlight[Shared] = SingleFlight()
        self.aflights: AsyncSingleFlight[Shared] = AsyncSingleFlight()
        #: Which keys a call should read with a plain MGET rather than the FETCH script.
        self.hints = FreshHints()
        #: The keys being refreshed early in this process (one refresher each).
        self.refreshes: SingleFlight[None] = SingleFlight()
        self.arefreshes: AsyncSingleFlight[None] = AsyncSingleFlight()
        self.memory: MemoryBackend | None = None
        self.config: RedisConfig | None = None
        self.given_sync: RedisConnector | None = None
        self.given_async: AsyncRedisConnector | None = async_connector
        self._lock = threading.Lock()
        self._sync: SyncBackend | None = None
        self._async: AsyncBackend | None = None
        #: True while the last operation on the backend was refused; whoever drives the
        #: backend clears it on the next answer.
        self.degraded = False
        self._setup(backend)
        #: The in-process L1 when the cache has one (None: one attribute check per call).
        self.local: L1 | None = None
        self._tracker: Any = None
        if local_cache is not None:
            self._setup_local(local_cache, key_prefix)

    def _setup(self, backend: object) -> None:
        if isinstance(backend, str):
            # The scheme first: a wrong URL is named as such, not as a missing redis extra.
            if storage_kind(backend, refusal="unsupported cache backend") == "memory":
                self.memory = _memory_from_url(backend.strip(), self.clock)
                return
            from backendkit.redis import RedisConfig

            self.config = RedisConfig(backend)
            return
        from backendkit.redis import AsyncRedisConnector, RedisConfig, RedisConnector

        if isinstance(backend, RedisConfig):
            self.config = backend
        elif isinstance(backend, RedisConnector):
            self.given_sync = backend
            self.config = backend.config
        elif isinstance(backend, AsyncRedisConnector):
            self.given_async = backend
            self.config = backend.config
        else:
            raise ConfigurationError(
                "Cache backend must be a URL, a RedisConfig or a Redis connector, "
                f"not {type(backend).__name__}"
            )

    def _setup_local(self, options: LocalCache, key_prefix: str) -> None:
        if not isinstance(options, LocalCache):
            raise ConfigurationError(
                f"local_cache must be a LocalCache or None, not {type(options).__name__}"
            )
        if self.config is None:
            raise ConfigurationError(
                "local_cache needs a Redis backend: a memory:// cache is in-process already"
            )
        from backendkit.cache._tracking import Tracker, check_supported

        check_supported(self.config)
        self.local = L1(options, self._wake_tracker)
        self._tracker = Tracker(
            self.local,
            self.config,
            prefix=key_prefix,
            heartbeat=options.heartbeat,
            name=self.name,
        )

    def _wake_tracker(self) -> None:
        self._tracker.ensure()

    # --- backends ---------------------------------------------------------------------------

    @property
    def is_memory(self) -> bool:
        """True for the in-process ``memory://`` backend."""
        return self.memory is not None

    def sync_backend(self) -> SyncBackend:
        """The backend for sync calls, built on first use."""
        if self.memory is not None:
            return self.memory
        backend = self._sync
        if backend is None:
            with self._lock:
                if self._sync is None:
                    self._sync = self._build_sync()
                backend = self._sync
        return backend

    def _build_sync(self) -> Any:
        from backendkit.cache._redis import RedisBackend, wait_config
        from backendkit.redis import RedisConnector

        assert self.config is not None
        given = self.given_sync
        main = given or RedisConnector(self.config, clock=self.clock, name=self.name)
        waiter = RedisConnector(
            wait_config(main.config, self.defaults.lock_wait),
            clock=self.clock,
            name=f"{self.name}-wait",
        )
        return RedisBackend(main, waiter, clock=self.clock, owns_connector=given is None)

    def async_backend(self) -> AsyncBackend:
        """The backend for async calls, built on first use."""
        if self.memory is not None:
            return self.memory
        backend = self._async
        if backend is None:
            # No await in between: two tasks cannot both build it.
            backend = self._async = self._build_async()
        return backend

    def _build_async(self) -> Any:
        from backendkit.cache._redis import AsyncRedisBackend, wait_config
        from backendkit.redis import AsyncRedisConnector

        assert self.config is not None
        given = self.given_async
        main = given or AsyncRedisConnector(self.config, clock=self.clock, name=self.name)
        waiter = AsyncRedisConnector(
            wait_config(main.config, self.defaults.lock_wait),
            clock=self.clock,
            name=f"{self.name}-wait",
        )
        return AsyncRedisBackend(main, waiter, clock=self.clock, owns_connector=given is None)

    # --- health ------------------------------------------------------------------------------

    def failed(self, stats: CacheStats) -> None:
        """The backend was unavailable: degraded, and one more error in ``stats``."""
        self.degraded = True
        stats.incr("errors")

    # --- direct access and invalidation ------------------------------------------------------

    def read(self, keys: EntryKeys, codec: Codec[Any]) -> Any:
        """The fresh value of ``keys`` decoded by ``codec``; ``MISSING`` when there is none.

        An unavailable backend reads as a miss (and marks the cache degraded).
        """
        try:
            reply = self.sync_backend().read(keys)
        except BackendUnavailable:
            self.failed(self.stats)
            return MISSING
        self.degraded = False
        return self._decode(reply, codec)

    async def aread(self, keys: EntryKeys, codec: Codec[Any]) -> Any:
        """Async twin of ``read``."""
        try:
            reply = await self.async_backend().aread(keys)
        except BackendUnavailable:
            self.failed(self.stats)
            return MISSING
        self.degraded = False
        return self._decode(reply, codec)

    def _decode(self, reply: tuple[bytes | None, bytes | None], codec: Codec[Any]) -> Any:
        gen, raw = reply
        entry = decode_entry(raw) if raw is not None and gen is not None else None
        if entry is None or entry.gen != gen or self.clock.now() >= entry.fresh_until:
            return MISSING
        try:
            return codec.loads(entry.payload)
        except DecodeError:
            self.stats.incr("errors")
            return MISSING

    def encode(self, value: Any, codec: Codec[Any]) -> bytes | None:
        """``value`` encoded for a direct write; ``None`` when it cannot or may not be stored."""
        try:
            payload = codec.dumps(value)
        except EncodeError:
            self.stats.incr("errors")
            return None
        return payload if len(payload) <= self.defaults.max_value_bytes else None

    def write(self, keys: EntryKeys, payload: bytes, fresh: float) -> bool:
        """Store ``payload`` under ``keys`` for ``fresh`` seconds; False when unavailable."""
        backend = self.sync_backend()
        try:
            gen = backend.read(keys)[0]
            if gen is None:
                gen = new_token()
                backend.run(Bump(keys.namespace, gen))
            raw = encode_entry(gen, self.clock.now() + fresh, 0.0, payload)
            backend.run(Store(keys, raw, max(1, round(fresh * 1000)), None, 1))
        except BackendUnavailable:
            self.failed(self.stats)
            return False
        finally:
            self._drop_local(keys.entry)
        self.degraded = False
        return True

    async def awrite(self, keys: EntryKeys, payload: bytes, fresh: float) -> bool:
        """Async twin of ``write``."""
        backend = self.async_backend()
        try:
            gen = (await backend.aread(keys))[0]
            if gen is None:
                gen = new_token()
                await backend.arun(Bump(keys.namespace, gen))
            raw = encode_entry(gen, self.clock.now() + fresh, 0.0, payload)
            await backend.arun(Store(keys, raw, max(1, round(fresh * 1000)), None, 1))
        except BackendUnavailable:
            self.failed(self.stats)
            return False
        finally:
            self._drop_local(keys.entry)
        self.degraded = False
        return True

    def invalidate(self, op: Op) -> Any:
        """Run a delete or a namespace bump, which must not fail silently.

        Raises:
            BackendUnavailable: the backend is unavailable (counted as an error).
        """
        self._forget(op)
        try:
            result = self.sync_backend().run(op)
        except BackendUnavailable:
            self.failed(self.stats)
            raise
        finally:
            self._drop_local(op)
        self.degraded = False
        return result

    async def ainvalidate(self, op: Op) -> Any:
        """Async twin of ``invalidate``."""
        self._forget(op)
        try:
            result = await self.async_backend().arun(op)
        except BackendUnavailable:
            self.failed(self.stats)
            raise
        finally:
            self._drop_local(op)
        self.degraded = False
        return result

    def _forget(self, op: Op) -> None:
        # A deleted entry's next read should take the lock at once. (A namespace bump
        # cannot list its keys: their next read is a plain one that misses, then locks.)
        if type(op) is Delete:
            self.hints.forget(op.key)

    def _drop_local(self, change: Op | str) -> None:
        # This process's own change is dropped at once: its next call must not wait for
        # the push that Redis sends every process (that one comes too, and is harmless).
        local = self.local
        if local is None:
            return
        if isinstance(change, str):
            local.invalidate([change])
        elif isinstance(change, Delete):
            local.invalidate([change.key])
        elif isinstance(change, Bump):
            local.invalidate(None)

    # --- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync backend if it was built (connectors passed in stay open), and
        stop the L1's tracking (it starts again on the next call)."""
        if self._tracker is not None:
            self._tracker.stop()
        backend, self._sync = self._sync, None
        if backend is not None:
            cast(Any, backend).close()

    async def aclose(self) -> None:
        """Close the async backend if it was built (connectors passed in stay open), and
        stop the L1's tracking (it starts again on the next call)."""
        if self._tracker is not None:
            self._tracker.stop()
        backend, self._async = self._async, None
        if backend is not None:
            await cast(Any, backend).aclose()


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
