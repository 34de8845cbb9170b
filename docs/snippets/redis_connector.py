from backendkit.errors import BackendUnavailable
from backendkit.redis import RedisConfig, RedisConnector

COUNT_AND_EXPIRE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class VisitCounter:
    """A component built on the connector: it decides what an outage means for it."""

    def __init__(self, conn: RedisConnector, *, namespace: str = "app:") -> None:
        self._conn = conn
        self._namespace = namespace  # tests pass a per-test prefix here
        self._script = conn.register_script(COUNT_AND_EXPIRE)  # opens no connection

    def hit(self, page: str) -> int | None:
        key = f"{self._namespace}visits:{page}"
        try:
            # Runs once: no retry, short timeouts, guarded by the breaker.
            return int(
                self._conn.execute(lambda r: self._script(keys=[key], args=[3600], client=r))
            )
        except BackendUnavailable:
            return None  # fail soft: a visit counter is not worth a 503


def build(url: str) -> RedisConnector:
    # In an app: RedisConnector(RedisConfig.from_settings(settings)), shared by all components.
    return RedisConnector(RedisConfig(url, connect_timeout=0.2, command_timeout=0.2))
