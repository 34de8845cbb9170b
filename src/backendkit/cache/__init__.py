"""Cache-aside caching for sync and async code, in memory or on Redis.

```python
from backendkit.cache import Cache

cache = Cache("redis://localhost:6379/0", key_prefix="myapp:")

@cache.cached(ttl=300, namespace="users")
def get_user(user_id: int) -> User: ...
```

* Keys come from the function's qualified name and its bound arguments (normalized), or a
  custom template or callable; namespaced and versioned.
* Values are JSON through pydantic and come back as the declared return type; never pickle.
* Concurrent calls of one key read once and load once per process (single-flight), and
  load once across processes (a short Redis lock taken by the read itself, with a blocking
  wake-up); hot keys refresh early (XFetch) or serve stale while one caller refreshes.
* Opt-in in-process L1 (``local_cache=LocalCache()``): hits without a round trip, kept
  coherent by Redis's client-side caching (every change of a key drops it at once).
* A Redis outage sends every call to the loader (bounded by the connector's timeouts,
  then not touching Redis while its breaker is open); ``call_detailed()`` reports it.

The ``memory://`` backend needs nothing extra; Redis needs ``pip install 'backendkit[redis]'``.
"""

from backendkit.cache._cache import DEFAULT_NAMESPACE, Cache, cached
from backendkit.cache._decorator import (
    AsyncBoundCachedFunction,
    AsyncCachedFunction,
    BoundCachedFunction,
    CacheDecorator,
    CachedFunction,
)
from backendkit.cache._local import LocalCache
from backendkit.cache._memory import MemoryBackend
from backendkit.cache._policy import Policy
from backendkit.cache._result import CacheResult, Outcome
from backendkit.cache._stats import LOAD_BUCKETS, CacheStats, StatsSnapshot

__all__ = [
    "DEFAULT_NAMESPACE",
    "LOAD_BUCKETS",
    "AsyncBoundCachedFunction",
    "AsyncCachedFunction",
    "BoundCachedFunction",
    "Cache",
    "CacheDecorator",
    "CacheResult",
    "CacheStats",
    "CachedFunction",
    "LocalCache",
    "MemoryBackend",
    "Outcome",
    "Policy",
    "StatsSnapshot",
    "cached",
]
