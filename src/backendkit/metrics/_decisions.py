"""Rate-limit decisions as a counter, told by the limiter itself (in a web app or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter

if TYPE_CHECKING:
    from backendkit.ratelimit import RateLimitResult

__all__ = ["LimitDecisions"]


class LimitDecisions:
    """``backendkit_ratelimit_decisions_total{rule, decision, source}``.

    ``decision`` is ``allowed`` or ``denied``; ``source`` says who decided: ``storage``
    (the normal case), ``fallback`` (storage down, local counters: ``local_fallback``) or
    ``policy`` (storage down: ``fail_open`` allowed it, ``fail_closed`` denied it). A
    degraded decision is any whose source is not ``storage``.
    """

    __slots__ = ("_children", "counter")

    def __init__(self, registry: CollectorRegistry) -> None:
        self.counter = Counter(
            "backendkit_ratelimit_decisions",
            "Rate-limit decisions, by rule, outcome and who decided (storage, fallback, policy).",
            ("rule", "decision", "source"),
            registry=registry,
        )
        self._children: dict[tuple[str, bool, str], Counter] = {}

    def __call__(self, result: RateLimitResult) -> None:
        """Count one decision (the limiter's ``on_decision``)."""
        key = (result.rule.name, result.allowed, result.source)
        child = self._children.get(key)
        if child is None:
            labels = (key[0], "allowed" if key[1] else "denied", key[2])
            child = self._children.setdefault(key, self.counter.labels(*labels))
        child.inc()
