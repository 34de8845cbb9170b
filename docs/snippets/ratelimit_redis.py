# snippet-needs: redis
import os
import uuid

from backendkit.ratelimit import RateLimiter, Rule
from backendkit.redis import RedisConfig, RedisConnector

redis_url = os.environ.get("BACKENDKIT_REDIS_URL", "redis://localhost:6379/0")

# One connector per process, shared by the limiter, the cache and the token store.
connector = RedisConnector(RedisConfig(redis_url, command_timeout=0.25))
worker_a = RateLimiter(connector, key_prefix="myapp:rl:", failure_policy="fail_closed")

# Another worker, process or host: its own connector, the same Redis, the same counters.
worker_b = RateLimiter(redis_url, key_prefix="myapp:rl:", failure_policy="fail_closed")

rule = Rule("export", "3/hour", strategy="moving-window")
user = f"user:{uuid.uuid4().hex}"  # a fresh user for this run

assert worker_a.hit(rule, user).allowed
assert worker_b.hit(rule, user).allowed
assert worker_a.hit(rule, user).remaining == 0
denied = worker_b.hit(rule, user)
assert not denied.allowed
assert denied.source == "storage"  # decided by Redis, on Redis's clock
assert 3595 < denied.retry_after <= 3600

worker_a.reset(rule, user)  # one DEL of a known key; never KEYS
assert worker_b.hit(rule, user).allowed
worker_a.reset(rule, user)
worker_b.close()  # closes the connector it built itself
connector.close()  # a shared connector is closed by its owner
