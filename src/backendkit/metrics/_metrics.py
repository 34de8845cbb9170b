"""`Metrics`: the request and component metrics of one ``CollectorRegistry``."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from prometheus_client import REGISTRY, CollectorRegistry

from backendkit.errors import ConfigurationError
from backendkit.metrics._auth import PasswordTimings, TokenEvents
from backendkit.metrics._components import ComponentCollector, StatsSource
from backendkit.metrics._decisions import LimitDecisions
from backendkit.metrics._failures import RedisFailures
from backendkit.metrics._mirror import Mirror
from backendkit.metrics._requests import DEFAULT_BUCKETS, ErrorCounts
from backendkit.metrics._sql import SqlStatements
from backendkit.metrics._tally import RequestTally

if TYPE_CHECKING:
    from backendkit.auth import PasswordHasher, TokenService
    from backendkit.cache import Cache
    from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
    from backendkit.redis import AsyncRedisConnector, RedisConnector
    from backendkit.web import RequestCycle, WebKit

__all__ = ["Metrics", "multiprocess_dir"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``), ``None`` in a single process."""
    return os.environ.get(MULTIPROC_ENV) or None


class _Shared:
    """The instruments of one registry, built once however many ``Metrics`` use it."""

    def __init__(self, registry: CollectorRegistry, buckets: Sequence[float]) -> None:
        directory = multiprocess_dir()
        self.requests = RequestTally(buckets, directory)
        registry.register(self.requests)
        self.errors = ErrorCounts(registry, directory)
        self.decisions = LimitDecisions(registry, directory)
        self.tokens = TokenEvents(registry)
        self.passwords = PasswordTimings(registry)
        self.redis_failures = RedisFailures(registry)
        self.statements = SqlStatements(registry)
        self.components = ComponentCollector()
        registry.register(self.components)
        #: In multiprocess mode, copies the component values to files (else ``None``).
        self.mirror = (
            None
            if directory is None
            else Mirror(self.components, directory, publish=self.requests.publish)
        )


_shared: weakref.WeakKeyDictionary[CollectorRegistry, _Shared] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


class Metrics:
    """Prometheus metrics for requests and for the components that serve them.

    Pass it to a kit (``WebKit.from_settings(settings, metrics=Metrics())``): every request
    the pipeline starts is counted by method, route template and status, its duration
    observed and its error code counted; the kit's limiters, cache and Redis connectors are
    watched. Outside a web app, ``watch_*`` the components directly.

    Every ``Metrics`` of one registry shares its instruments, so two kits in one process
    (or one kit built twice in tests) never raise a duplicate-series error; give each kit
    its own ``CollectorRegistry`` to keep their series apart.

    Args:
        registry: where the metrics are registered (default: prometheus-client's global
            ``REGISTRY``, which ``/metrics`` helpers expose with the process metrics).
        buckets: the request-duration histogram's bounds in seconds (default
            ``DEFAULT_BUCKETS``, 5 ms to 10 s).

    Raises:
        ConfigurationError: ``buckets`` differ from those the registry's histogram
            already has.

    Example:
        >>> from prometheus_client import CollectorRegistry
        >>> registry = CollectorRegistry()
        >>> metrics = Metrics(registry)
        >>> Metrics(registry).registry is metrics.registry
        True
    """

    __slots__ = ("_shared", "registry")

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.registry = REGISTRY if registry is None else registry
        wanted = tuple(float(bound) for bound in buckets)
        with _shared_lock:
            shared = _shared.get(self.registry)
            if shared is None:
                shared = _shared[self.registry] = _Shared(self.registry, wanted)
        if shared.requests.buckets != wanted:
            raise ConfigurationError(
                "this registry's request histogram has other buckets: pass the same "
                "buckets= to every Metrics of one registry"
            )
        self._shared = shared

    # ------------------------------------------------------------ RequestObserver

    def attach(self, kit: WebKit) -> None:
        """Watch ``kit``'s token service, limiters, cache and Redis connectors (``WebKit``
        calls it)."""
        if kit.tokens is not None:
            self.watch_tokens(kit.tokens)
        for limiter in (kit.limiter, kit.async_limiter):
            if limiter is not None:
                self.watch_limiter(limiter)
        if kit.cache is not None:
            self.watch_cache(kit.cache)
        for connector in (kit.redis, kit.async_redis):
            if connector is not None:
                self.watch_redis(connector)

    def request_started(self, cycle: RequestCycle) -> None:
        """One more request in flight."""
        shared = self._shared
        shared.requests.started()
        if shared.statements.watching:  # no bookkeeping until an engine is watched
            shared.statements.request_started()
        mirror = shared.mirror
        if mirror is not None and not mirror.running:
            mirror.start()  # a worker's first request: its values are copied from now on

    def request_finished(self, cycle: RequestCycle) -> None:
        """Count the request (status, route template, duration, error code)."""
        shared = self._shared
        shared.requests.finished(cycle)
        if shared.statements.watching:
            shared.statements.request_finished(cycle)
        if cycle.error_code is not None:
            shared.errors.count(cycle.route, cycle.error_code)

    def request_dropped(self, cycle: RequestCycle) -> None:
        """Forget a request in flight (the metrics and health routes)."""
        shared = self._shared
        shared.requests.dropped()
        if shared.statements.watching:
            shared.statements.request_dropped()

    # ------------------------------------------------------------ components

    def watch_limiter(self, limiter: RateLimiter | AsyncRateLimiter) -> None:
        """Count every decision ``limiter.hit`` makes, by rule, outcome and source."""
        limiter.on_decision = self._shared.decisions

    def watch_tokens(self, tokens: TokenService) -> None:
        """Count the tokens ``tokens`` issues, refreshes and rejects, and reuse detected."""
        tokens.on_event = self._shared.tokens

    def watch_passwords(self, hasher: PasswordHasher) -> None:
        """Time every hash and verification ``hasher`` does (async ones included)."""
        hasher.on_timing = self._shared.passwords

    def watch_cache(self, cache: Cache | StatsSource) -> None:
        """Expose a cache's ``CacheStats`` (or a decorated function's ``stats``) as the
        ``backendkit_cache_*_total{cache}`` counters, read at each scrape."""
        stats = cast(StatsSource, getattr(cache, "stats", cache))
        self._shared.components.add_cache(stats)

    def watch_redis(self, connector: RedisConnector | AsyncRedisConnector) -> None:
        """Expose a ``RedisConnector``'s (or async twin's) circuit breaker, and count its
        failed calls by kind (timeouts, errors, a full pool)."""
        self._shared.components.add_connector(connector)
        connector.on_failure = self._shared.redis_failures

    def watch_engine(self, engine: Any, name: str = "default") -> None:
        """Expose a SQLAlchemy ``Engine``/``AsyncEngine``'s pool and count the statements it
        runs, as ``engine=name``."""
        self._shared.components.add_engine(engine, name)
        self._shared.statements.watch(engine, name)

    @property
    def mirror(self) -> Mirror | None:
        """The multiprocess copy of the component values (``None`` in a single process)."""
        return self._shared.mirror

    def close(self) -> None:
        """The kit is closing (a worker shuts down): in multiprocess mode, write this
        process's component values a last time and remove its live gauges (its requests
        in flight, pools, breakers). Nothing to do in a single process."""
        if self._shared.mirror is not None:
            self._shared.mirror.close()

    def __repr__(self) -> str:
        mode = "multiprocess" if multiprocess_dir() else "single process"
        return f"Metrics({mode}, buckets={self._shared.requests.buckets!r})"
