# snippet-needs: redis
import os
import time
import uuid

from backendkit.cache import Cache, LocalCache, Outcome

redis_url = os.environ.get("BACKENDKIT_REDIS_URL", "redis://localhost:6379/0")
prefix = f"docs:{uuid.uuid4().hex[:8]}:"  # isolates this run's keys

cache = Cache(redis_url, key_prefix=prefix, local_cache=LocalCache(max_entries=10_000))
other_worker = Cache(redis_url, key_prefix=prefix)  # another process, no L1
loads = []


@cache.cached(ttl=300, namespace="prices", key="sku:{sku}")
def price(sku: int) -> float:
    loads.append(sku)  # stands for the database query
    return 9.99


assert price(1) == 9.99  # a miss: loads and stores in Redis
deadline = time.monotonic() + 5
while cache.local_entries == 0:  # the first hits read Redis and fill the L1
    assert time.monotonic() < deadline
    assert price(1) == 9.99
assert price.call_detailed(1).outcome is Outcome.HIT  # from the L1: no round trip

# Another worker writes the entry: Redis tells this process, which drops its copy.
other_worker.set("sku:1", 12.5, ttl=300, namespace="prices")
while cache.local_entries != 0:  # within about one round trip
    assert time.monotonic() < deadline
assert price(1) == 12.5  # read from Redis again
assert loads == [1]

price.invalidate_all()
cache.close()  # stops the tracking thread too
other_worker.close()
