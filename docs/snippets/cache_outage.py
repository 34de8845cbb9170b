import socket

from backendkit.cache import Cache, CacheResult, Outcome
from backendkit.errors import BackendUnavailable
from backendkit.redis import RedisConfig
from backendkit.testing import FakeClock

# A port where nothing listens stands for a Redis that is down.
with socket.socket() as sock:
    sock.bind(("127.0.0.1", 0))
    dead_url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"

    cache = Cache(
        RedisConfig(dead_url, connect_timeout=0.25, command_timeout=0.25, breaker_cooldown=5),
        clock=FakeClock(),
    )

    @cache.cached(ttl=60)
    def price(sku: str) -> float:
        return 9.99  # the database still answers

    # Every call goes to the loader and returns its value; degraded tells an outage from
    # a miss. After the first failure the breaker is open: no connection is attempted.
    assert price.call_detailed("A-1") == CacheResult(9.99, Outcome.LOADED, degraded=True)
    assert price("A-2") == 9.99
    assert cache.degraded

    snap = cache.stats.log()  # one cache_stats event with every counter
    assert snap.degraded == 2
    assert snap.loads == 2
    assert snap.errors >= 1

    # Reads fail soft; invalidation refuses to pretend it happened.
    try:
        price.invalidate("A-1")
    except BackendUnavailable:
        pass
    else:
        raise AssertionError("invalidation cannot succeed while Redis is down")
    cache.close()
