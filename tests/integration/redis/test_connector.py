"""RedisConnector against a real Redis, a refused port, a hung socket and a restarted server."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from tests._services import HungServer, RedisServerFactory

from backendkit.errors import BackendUnavailable
from backendkit.redis import BreakerState, RedisConfig, RedisConnector
from backendkit.testing import FakeClock, capture_logs

INCR_BY = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


def _events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


def test_round_trip_and_script(redis_url: str, redis_prefix: str) -> None:
    """Commands and a registered Lua script run through execute against a real Redis."""
    with RedisConnector(redis_url) as conn:
        key = redis_prefix + "counter"
        assert conn.execute(lambda r: r.set(key, 5)) is True
        script = conn.register_script(INCR_BY)
        assert conn.execute(lambda r: script(keys=[key], args=[3], client=r)) == 8
        assert conn.execute(lambda r: r.get(key)) == b"8"
        assert conn.ping() is True
        assert conn.breaker.state is BreakerState.CLOSED


def test_script_is_loaded_on_a_fresh_server(
    redis_server_factory: RedisServerFactory,
) -> None:
    """On a server that never saw the script, it is loaded and run (NOSCRIPT handled once)."""
    server = redis_server_factory()
    with RedisConnector(server.url) as conn:
        script = conn.register_script(INCR_BY)
        assert conn.execute(lambda r: script(keys=["k"], args=[2], client=r)) == 2
        assert conn.execute(lambda r: r.script_exists(script.sha)) == [True]


def test_error_replies_propagate_and_keep_the_breaker_closed(
    redis_url: str, redis_prefix: str
) -> None:
    """A WRONGTYPE reply is a bug, not an outage: it propagates and the breaker stays closed."""
    with RedisConnector(redis_url) as conn:
        key = redis_prefix + "list"
        conn.execute(lambda r: r.rpush(key, "a"))
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            conn.execute(lambda r: r.incr(key))
        assert conn.breaker.state is BreakerState.CLOSED


def test_other_exceptions_propagate_untouched(redis_url: str) -> None:
    """An exception raised by the operation itself is not translated."""
    with RedisConnector(redis_url) as conn:

        def boom(_client: object) -> None:
            raise KeyError("mine")

        with pytest.raises(KeyError, match="mine"):
            conn.execute(boom)
        assert conn.breaker.state is BreakerState.CLOSED


def test_refused_port_fails_fast_and_opens_the_breaker(
    dead_redis_url: str, fake_clock: FakeClock
) -> None:
    """Nothing listening: BackendUnavailable from the ConnectionError, then fail fast."""
    conn = RedisConnector(dead_redis_url, clock=fake_clock)
    with capture_logs() as logs:
        with pytest.raises(BackendUnavailable) as first:
            conn.execute(lambda r: r.get("k"))
        assert isinstance(first.value.__cause__, redis.ConnectionError)
        assert first.value.status == 503
        assert conn.breaker.state is BreakerState.OPEN
        with pytest.raises(BackendUnavailable) as second:
            conn.execute(lambda r: r.get("k"))
        assert second.value.__cause__ is None
        assert conn.ping() is False
    warnings = _events(logs, "redis_unavailable")
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["error"] == "ConnectionError"
    assert warnings[0]["breaker_opened"] is True
    assert warnings[0]["url"] == dead_redis_url


def test_hung_server_times_out_and_open_breaker_makes_no_connection(
    hung_redis: HungServer, fake_clock: FakeClock
) -> None:
    """A server that never answers: the call times out (no retry), then no new connections."""
    config = RedisConfig(hung_redis.url, connect_timeout=0.2, command_timeout=0.1)
    conn = RedisConnector(config, clock=fake_clock)
    with pytest.raises(BackendUnavailable) as info:
        conn.execute(lambda r: r.get("k"))
    assert isinstance(info.value.__cause__, redis.TimeoutError)
    # Exactly one connection: redis-py did not retry.
    assert hung_redis.wait_for_accepted(1) == 1
    assert hung_redis.wait_for_accepted(2, timeout=0.2) == 1
    for _ in range(5):
        with pytest.raises(BackendUnavailable):
            conn.execute(lambda r: r.get("k"))
    assert conn.ping() is False
    # While the breaker is open nothing reached the socket.
    assert hung_redis.wait_for_accepted(2, timeout=0.2) == 1
    # After the cooldown one trial call goes out (and fails again).
    fake_clock.advance(config.breaker_cooldown)
    with pytest.raises(BackendUnavailable) as trial:
        conn.execute(lambda r: r.get("k"))
    assert trial.value.__cause__ is not None
    assert hung_redis.wait_for_accepted(2) == 2
    assert conn.breaker.state is BreakerState.OPEN
    conn.close()


def test_breaker_threshold_allows_some_failures(dead_redis_url: str, fake_clock: FakeClock) -> None:
    """With threshold 3, three calls reach the network before the breaker opens."""
    conn = RedisConnector(RedisConfig(dead_redis_url, breaker_threshold=3), clock=fake_clock)
    causes = []
    for _ in range(4):
        with pytest.raises(BackendUnavailable) as info:
            conn.execute(lambda r: r.get("k"))
        causes.append(info.value.__cause__)
    assert [c is not None for c in causes] == [True, True, True, False]


def test_warning_is_throttled_per_interval(dead_redis_url: str, fake_clock: FakeClock) -> None:
    """One warning per interval; the next one counts what was held back."""
    config = RedisConfig(dead_redis_url, breaker_cooldown=1.0, warn_interval=30.0)
    conn = RedisConnector(config, clock=fake_clock)
    with capture_logs() as logs:
        for _ in range(5):
            with pytest.raises(BackendUnavailable):
                conn.execute(lambda r: r.get("k"))
            fake_clock.advance(1.0)  # every call after the first is a failed trial
        assert len(_events(logs, "redis_unavailable")) == 1
        fake_clock.advance(30.0)
        with pytest.raises(BackendUnavailable):
            conn.execute(lambda r: r.get("k"))
    warnings = _events(logs, "redis_unavailable")
    assert len(warnings) == 2
    assert warnings[1]["suppressed"] == 4
    assert warnings[1]["breaker_opened"] is False


def test_stopped_server_recovers_after_cooldown(
    redis_server_factory: RedisServerFactory, fake_clock: FakeClock
) -> None:
    """Stop Redis: calls fail and the breaker opens; start it: after the cooldown it closes."""
    server = redis_server_factory()
    conn = RedisConnector(server.url, clock=fake_clock)
    assert conn.execute(lambda r: r.set("k", "v")) is True
    server.stop()
    with capture_logs() as logs:
        with pytest.raises(BackendUnavailable):
            conn.execute(lambda r: r.get("k"))
        assert conn.breaker.state is BreakerState.OPEN
        server.start()
        # Redis is back, but the breaker is still open: still failing fast.
        with pytest.raises(BackendUnavailable) as fast:
            conn.execute(lambda r: r.get("k"))
        assert fast.value.__cause__ is None
        fake_clock.advance(conn.config.breaker_cooldown)
        assert conn.execute(lambda r: r.set("k", "again")) is True
        assert conn.breaker.state is BreakerState.CLOSED
    assert len(_events(logs, "redis_unavailable")) == 1
    recovered = _events(logs, "redis_recovered")
    assert len(recovered) == 1
    assert recovered[0]["log_level"] == "info"
    conn.close()


def test_a_flapping_server_logs_outages_and_recoveries_in_pairs(
    redis_server_factory: RedisServerFactory, fake_clock: FakeClock
) -> None:
    """Within the warning interval a second outage is not logged, and neither is its end."""
    server = redis_server_factory()
    conn = RedisConnector(server.url, clock=fake_clock)
    cooldown, interval = conn.config.breaker_cooldown, conn.config.warn_interval

    def outage_then_recovery() -> None:
        server.stop()
        with pytest.raises(BackendUnavailable):
            conn.execute(lambda r: r.get("k"))
        server.start()
        fake_clock.advance(cooldown)
        assert conn.execute(lambda r: r.set("k", "v")) is True

    assert conn.execute(lambda r: r.set("k", "v")) is True
    with capture_logs() as logs:
        outage_then_recovery()  # warned, so its recovery is logged
        outage_then_recovery()  # inside the interval: neither is logged
        fake_clock.advance(interval)
        outage_then_recovery()  # warned again (one held back), recovery logged
    warnings = _events(logs, "redis_unavailable")
    assert [w["suppressed"] for w in warnings] == [0, 1]
    assert len(_events(logs, "redis_recovered")) == 2
    conn.close()


def test_sync_cluster_url_unreachable_is_backend_unavailable(
    dead_redis: Any, fake_clock: FakeClock
) -> None:
    """The sync cluster client connects when built; an unreachable cluster is a 503 too."""
    conn = RedisConnector(f"redis+cluster://127.0.0.1:{dead_redis.port}", clock=fake_clock)
    with pytest.raises(BackendUnavailable) as info:
        conn.execute(lambda r: r.ping())
    assert isinstance(info.value.__cause__, redis.RedisClusterException | redis.ConnectionError)
    assert conn.breaker.state is BreakerState.OPEN


def test_sentinel_url_unreachable_is_backend_unavailable(
    dead_redis: Any, fake_clock: FakeClock
) -> None:
    """No sentinel answers: master discovery fails and becomes BackendUnavailable."""
    conn = RedisConnector(
        f"redis+sentinel://127.0.0.1:{dead_redis.port}/mymaster", clock=fake_clock
    )
    with pytest.raises(BackendUnavailable) as info:
        conn.execute(lambda r: r.ping())
    assert isinstance(info.value.__cause__, redis.ConnectionError)


def test_cluster_round_trip_and_script(redis_cluster_url: str) -> None:
    """redis+cluster:// against a real (one-node) cluster: commands and scripts route."""
    with RedisConnector(redis_cluster_url) as conn:
        assert conn.is_cluster
        assert isinstance(conn.client, redis.RedisCluster)
        assert conn.client.retry.get_retries() == 0
        assert conn.execute(lambda r: r.set("{user:1}:n", 4)) is True
        script = conn.register_script(INCR_BY)
        assert conn.execute(lambda r: script(keys=["{user:1}:n"], args=[1], client=r)) == 5
        assert conn.ping() is True


def test_sentinel_round_trip(redis_sentinel_url: str) -> None:
    """redis+sentinel:// discovers the master through a real sentinel and talks to it."""
    with RedisConnector(redis_sentinel_url) as conn:
        assert not conn.is_cluster
        assert conn.execute(lambda r: r.set("k", "v")) is True
        script = conn.register_script(INCR_BY)
        assert conn.execute(lambda r: script(keys=["n"], args=[2], client=r)) == 2
        assert conn.execute(lambda r: r.get("k")) == b"v"
