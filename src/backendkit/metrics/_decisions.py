"""Rate-limit decisions as a counter, told by the limiter itself (in a web app or not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry

from backendkit.metrics._counter import CounterTally

if TYPE_CHECKING:
    from backendkit.ratelimit import RateLimitResult

__all__ = ["LimitDecisions"]


class LimitDecisions:
    """``backendkit_ratelimit_decisions_total{rule, decision, source}``.

    ``decision`` is ``allowed`` or ``denied``; ``source`` says who decided: ``storage``
    (the normal case), ``fallback`` (storage down, local counters: ``local_fallback``) or
    ``policy`` (storage down: ``fail_open`` allowed it, ``fail_closed`` denied it). A
    degraded decision is any whose source is not ``storage``.

    Args:
        registry: where the counter is registered.
        directory: multiprocess mode's directory (``None``: a single process).
    """

    __slots__ = ("counter",)

    def __init__(self, registry: CollectorRegistry, directory: str | None = None) -> None:
        self.counter = CounterTally(
            "backendkit_ratelimit_decisions",
            "Rate-limit decisions, by rule, outcome and who decided (storage, fallback, policy).",
            ("rule", "decision", "source"),
            directory,
        )
        registry.register(self.counter)

    def __call__(self, result: RateLimitResult) -> None:
        """Count one decision (the limiter's ``on_decision``)."""
        self.counter.inc(
            (result.rule.name, "allowed" if result.allowed else "denied", result.source)
        )
