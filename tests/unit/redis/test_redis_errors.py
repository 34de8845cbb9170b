"""Which redis-py errors count as an outage (and become BackendUnavailable)."""

from __future__ import annotations

import asyncio

import pytest
from redis import exceptions as rx
from redis.sentinel import MasterNotFoundError

from backendkit.redis._errors import is_outage, server_answered


@pytest.mark.parametrize(
    "exc",
    [
        rx.ConnectionError("refused"),
        rx.TimeoutError("timeout"),
        rx.AuthenticationError("bad password"),
        rx.BusyLoadingError("LOADING"),
        rx.MaxConnectionsError("too many"),
        rx.ClusterDownError("CLUSTERDOWN"),
        rx.MasterDownError("MASTERDOWN"),
        rx.TryAgainError("TRYAGAIN"),
        rx.ReadOnlyError("READONLY"),
        rx.OutOfMemoryError("OOM"),
        rx.InvalidResponse("garbage"),
        rx.SlotNotCoveredError("no slot"),
        rx.RedisClusterException("no reachable node"),
        MasterNotFoundError("no master"),
        ConnectionResetError("reset"),
        TimeoutError("raw socket timeout"),
        asyncio.TimeoutError(),
    ],
)
def test_outages(exc: BaseException) -> None:
    """Unreachable, timed out, or 'cannot serve now' errors are outages."""
    assert is_outage(exc)
    assert not server_answered(exc)


@pytest.mark.parametrize(
    "exc",
    [
        rx.ResponseError("WRONGTYPE"),
        rx.NoScriptError("NOSCRIPT"),
        rx.NoPermissionError("NOPERM"),
        rx.ExecAbortError("EXECABORT"),
        rx.CrossSlotTransactionError("cross slot"),
        rx.InvalidPipelineStack("bad pipeline"),
        rx.DataError("bad argument"),
        ValueError("mine"),
        KeyError("mine"),
    ],
)
def test_not_outages(exc: BaseException) -> None:
    """Errors that mean the call itself is wrong are not outages: they propagate."""
    assert not is_outage(exc)


def test_error_replies_prove_the_server_answered() -> None:
    """An error reply counts as an answer; a client-side error does not."""
    assert server_answered(rx.ResponseError("WRONGTYPE"))
    assert not server_answered(rx.DataError("bad argument"))
    assert not server_answered(ValueError("x"))
