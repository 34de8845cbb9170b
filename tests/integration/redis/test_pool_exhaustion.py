"""A full client-side connection pool fails the call soft but never opens the breaker."""

from __future__ import annotations

import pytest

from backendkit.errors import BackendUnavailable
from backendkit.redis import BreakerState, RedisConnector


def test_full_pool_is_unavailable_without_opening_the_breaker(redis_url: str) -> None:
    """With the only pooled connection held, a call is BackendUnavailable; the breaker stays
    closed, and the next call after the connection is released succeeds."""
    conn = RedisConnector(redis_url + "?max_connections=1")
    try:
        pool = conn.client.connection_pool
        held = pool.get_connection()
        try:
            with pytest.raises(BackendUnavailable):
                conn.execute(lambda r: r.ping())
            assert conn.breaker.state is BreakerState.CLOSED
            assert conn.breaker.failures == 0
        finally:
            pool.release(held)
        assert conn.execute(lambda r: r.ping()) is True
    finally:
        conn.close()
