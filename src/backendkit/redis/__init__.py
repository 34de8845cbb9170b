"""The one Redis connection layer: timeouts, no retries, a circuit breaker.

The token store, the rate limiter and the cache all reach Redis through a
[`RedisConnector`][backendkit.redis.RedisConnector] (or its async twin). Clients are
built from a URL with short connect and command timeouts and redis-py's automatic
retries turned off; a circuit breaker stops calling a dead server for a cooldown; an
outage warning is logged at most once per interval. Each component decides what an
outage means for it.

Needs the ``redis`` extra: ``pip install 'backendkit[redis]'``.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
from backendkit._extras import require as _require

_require("redis", "redis")

from backendkit.redis._async import AsyncRedisConnector
from backendkit.redis._breaker import BreakerState, CircuitBreaker
from backendkit.redis._clients import AsyncRedisClient, RedisClient
from backendkit.redis._config import RedisConfig
from backendkit.redis._sync import RedisConnector

__all__ = [
    "AsyncRedisClient",
    "AsyncRedisConnector",
    "BreakerState",
    "CircuitBreaker",
    "RedisClient",
    "RedisConfig",
    "RedisConnector",
]
