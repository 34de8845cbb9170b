"""Redis down (PostgreSQL + Redis run): health is 503, refresh fails closed, nothing is a 500.

Collected last on purpose: restarting the private redis-server empties it (sessions,
counters), which would disturb tests that hold tokens across the outage.
"""

from __future__ import annotations

import time

import pytest
from tests.contract._api import Api
from tests.contract._servers import RunningServer

pytestmark = pytest.mark.contract_only(backend="services")


def _wait_for_health(api: Api, status: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/health").status_code != status:
        assert time.monotonic() < deadline, f"/health never answered {status}"
        time.sleep(0.2)


def test_redis_outage_is_a_503_and_the_service_recovers(server: RunningServer, api: Api) -> None:
    """Stop Redis: /health 503 naming redis; refresh 503; anonymous calls still answered."""
    redis = server.redis
    account = api.new_user()
    redis.stop()  # type: ignore[attr-defined]
    try:
        down = api.get("/health")
        assert down.status_code == 503
        error = down.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert [d["field"] for d in error["details"]] == ["redis"]
        refresh = api.post("/api/v1/auth/refresh", json_body={"refreshToken": account.refresh})
        assert refresh.status_code == 503  # never rotated unchecked
        anonymous = api.get("/api/v1/users/me")
        assert anonymous.status_code == 401  # the limiter fails open; no 500
    finally:
        redis.start()  # type: ignore[attr-defined]
    _wait_for_health(api, 200)
    # Each worker's breaker closes on its first successful trial after the cooldown; a
    # pooled connection to the dead server fails once (commands are never retried). So
    # logins recover within a few attempts on every worker, never needing a restart.
    account = api.register()
    deadline = time.monotonic() + 20
    while True:
        with Api(server) as fresh:  # a new address: no login limit in the way
            login = fresh.post(
                "/api/v1/auth/login",
                json_body={"email": account.email, "password": account.password},
            )
        if login.status_code == 200:
            break
        assert login.status_code == 503
        assert time.monotonic() < deadline, "logins did not recover after Redis came back"
        time.sleep(0.3)
    # The same holds for the next request: it may land on a worker whose pooled connection
    # still points at the old server, and that one request fails closed.
    token = login.json()["data"]["accessToken"]
    while (me := api.get("/api/v1/users/me", token=token)).status_code != 200:
        assert me.status_code == 503
        assert time.monotonic() < deadline + 20, "authenticated calls did not recover"
        time.sleep(0.3)
