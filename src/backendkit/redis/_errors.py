"""Which redis-py errors mean "Redis is unavailable" (translated at the boundary)."""

from __future__ import annotations

import asyncio

from redis import exceptions as rx

__all__ = ["failure_kind", "is_outage", "is_pool_exhausted", "server_answered"]

# An outage: the server could not be reached, did not answer in time, or answered that it
# cannot serve right now (loading, failover, cluster down, out of memory). redis-py's
# ConnectionError covers AuthenticationError, BusyLoadingError, MaxConnectionsError and
# sentinel's MasterNotFoundError/SlaveNotFoundError. OSError catches socket errors that
# redis-py lets through unwrapped; asyncio.TimeoutError is not an OSError before 3.11.
_OUTAGE: tuple[type[BaseException], ...] = (
    rx.ConnectionError,
    rx.TimeoutError,
    rx.ClusterError,
    rx.TryAgainError,
    rx.ReadOnlyError,
    rx.OutOfMemoryError,
    rx.InvalidResponse,
    rx.RedisClusterException,
    OSError,
    asyncio.TimeoutError,
)

# Programming errors that share a base class with cluster outages: never an outage.
# (Looked up by name: older redis-py releases do not define them.)
_USAGE: tuple[type[BaseException], ...] = tuple(
    getattr(rx, name)
    for name in ("CrossSlotTransactionError", "InvalidPipelineStack")
    if hasattr(rx, name)
)


def is_pool_exhausted(exc: BaseException) -> bool:
    """True when the client's own connection pool is full: a local limit, not an outage."""
    return isinstance(exc, rx.MaxConnectionsError)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means Redis is unavailable rather than the call being wrong."""
    return isinstance(exc, _OUTAGE) and not isinstance(exc, _USAGE)


def failure_kind(exc: BaseException) -> str:
    """How a failed call failed, for metrics: ``timeout``, ``pool_exhausted`` or ``error``."""
    if isinstance(exc, (rx.TimeoutError, TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    return "pool_exhausted" if is_pool_exhausted(exc) else "error"


def server_answered(exc: BaseException) -> bool:
    """True when ``exc`` is a reply from a live server (an error reply, e.g. WRONGTYPE)."""
    return isinstance(exc, rx.ResponseError) and not is_outage(exc)
