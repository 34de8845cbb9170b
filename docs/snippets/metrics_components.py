"""Component metrics outside a web app: a worker process with a limiter, a cache, a pool."""

from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

from backendkit.cache import Cache
from backendkit.metrics import Metrics
from backendkit.ratelimit import RateLimiter, Rule

registry = CollectorRegistry()
metrics = Metrics(registry)

limiter = RateLimiter("memory://")
metrics.watch_limiter(limiter)  # every hit(): decisions by rule, outcome and source

cache = Cache("memory://", name="reports")
metrics.watch_cache(cache)  # the cache's own CacheStats, read at each scrape

engine = create_engine("sqlite://", poolclass=QueuePool)  # stands for your database URL
metrics.watch_engine(engine, "main")  # pool checked out, overflow and size

# watch_passwords(hasher) times every hash and verification, watch_tokens(service)
# counts token events, watch_redis(connector) a connector's breaker and failures.

limiter.hit(Rule("exports", "2/minute"), "tenant:7")
