# snippet-needs: redis
import os
import threading
import uuid

from backendkit.cache import Cache, Outcome
from backendkit.redis import RedisConfig, RedisConnector

redis_url = os.environ.get("BACKENDKIT_REDIS_URL", "redis://localhost:6379/0")
prefix = f"docs:{uuid.uuid4().hex[:8]}:"  # isolates this run's keys

# One connector per process, shared with the limiter and the token store.
connector = RedisConnector(RedisConfig(redis_url, command_timeout=0.25))
worker_a = Cache(connector, key_prefix=prefix)
worker_b = Cache(redis_url, key_prefix=prefix)  # another process, same Redis

release = threading.Event()
loads = []


def define(cache: Cache):  # the same function, deployed in two workers
    @cache.cached(ttl=60, namespace="reports")
    def daily_report(day: str) -> dict[str, int]:
        loads.append(day)
        release.wait(5)  # a slow query
        return {"orders": 1234}

    return daily_report


report_a, report_b = define(worker_a), define(worker_b)
results = {}
a = threading.Thread(target=lambda: results.setdefault("a", report_a.call_detailed("mon")))
a.start()
while not loads:  # worker A holds the load lock and runs the query
    threading.Event().wait(0.01)
b = threading.Thread(target=lambda: results.setdefault("b", report_b.call_detailed("mon")))
b.start()
while worker_b.stats.snapshot().lock_waits == 0:  # worker B blocks on the wake-up
    threading.Event().wait(0.01)
release.set()
a.join()
b.join()

assert loads == ["mon"]  # one query for both workers
assert results["a"].outcome is Outcome.LOADED
assert results["b"].outcome is Outcome.SHARED  # B received A's value, no polling
assert report_b("mon") == {"orders": 1234}

report_a.invalidate_all()
worker_a.close()  # the shared connector stays open: its owner closes it
worker_b.close()
connector.close()
