import socket

from backendkit.errors import BackendUnavailable
from backendkit.redis import BreakerState, RedisConnector
from backendkit.testing import FakeClock


def failure(conn: RedisConnector) -> BackendUnavailable:
    try:
        conn.execute(lambda r: r.get("greeting"))
    except BackendUnavailable as exc:
        return exc
    raise AssertionError("Redis should be unavailable")


# A port where nothing listens stands in for a Redis that is down.
with socket.socket() as placeholder:
    placeholder.bind(("127.0.0.1", 0))
    url = f"redis://127.0.0.1:{placeholder.getsockname()[1]}/0"

    clock = FakeClock()
    conn = RedisConnector(url, clock=clock)  # defaults: threshold 1, cooldown 5 s

    first = failure(conn)
    assert first.status == 503
    assert first.__cause__ is not None  # the redis-py ConnectionError
    assert conn.breaker.state is BreakerState.OPEN

    # While the breaker is open, calls fail at once and nothing is sent.
    assert failure(conn).__cause__ is None

    clock.advance(5.0)  # after the cooldown one trial call is let through
    assert conn.breaker.state is BreakerState.HALF_OPEN
    assert conn.ping() is False  # the trial failed: open again for another cooldown
    assert conn.breaker.state is BreakerState.OPEN
