"""Redis calls that failed soft, counted as the connector reports them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["RedisFailures"]


class RedisFailures:
    """``backendkit_redis_failures_total{connector, kind}``: ``timeout`` (connect or
    command), ``error`` (refused, reset, loading, failover...) or ``pool_exhausted`` (this
    process's connection pool was full); fed by each connector's ``on_failure``."""

    __slots__ = ("_children", "counter")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "backendkit_redis_failures",
            "Redis calls that failed (the caller failed soft), by connector and kind.",
            ("connector", "kind"),
            registry=registry,
        )
        self._children: dict[tuple[str, str], Counter] = {}

    def __call__(self, connector: str, kind: str) -> None:
        """Count one failure."""
        key = (connector, kind)
        child = self._children.get(key)
        if child is None:
            child = self._children.setdefault(key, self.counter.labels(*key))
        child.inc()
