"""Several workers on PostgreSQL + Redis share limits, revocations and the cache."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.contract._api import Api
from tests.contract._servers import RunningServer

pytestmark = pytest.mark.contract_only(backend="services")

ME = "/api/v1/users/me"
THREADS = 16
REQUESTS = 144  # 100 allowed by the default budget, 44 refused
WINDOW = 15 * 60  # the examples' default limit: 100 per 15 minutes


def _overlapping_burst(server: RunningServer) -> list[int]:
    """The statuses of REQUESTS overlapping requests from one new address, all inside one
    window of the default limit.

    The windows are aligned to the clock, and a burst that straddles a boundary is rightly
    allowed more (the next window, or the sliding-window counter's weighing of the previous
    one): such a burst is sent again from another address.
    """
    for _ in range(3):
        barrier = threading.Barrier(THREADS)
        with Api(server) as first:
            address = first.address

        def burst(
            _: int, address: str = address, barrier: threading.Barrier = barrier
        ) -> list[int]:
            with Api(server, address) as client:  # its own connections, the same address
                barrier.wait(timeout=30)
                return [client.get(ME).status_code for _ in range(REQUESTS // THREADS)]

        began = time.time()
        with ThreadPoolExecutor(THREADS) as pool:
            statuses = [status for chunk in pool.map(burst, range(THREADS)) for status in chunk]
        if began // WINDOW == time.time() // WINDOW:
            return statuses
    raise AssertionError("three bursts in a row straddled a window boundary")


def test_a_limit_of_n_across_four_workers_allows_n(server: RunningServer) -> None:
    """144 overlapping requests from one address over 4 workers: exactly 100 get through."""
    assert len(server.worker_pids()) >= 4
    statuses = _overlapping_burst(server)
    assert statuses.count(401) == 100  # allowed, then refused for want of a token
    assert statuses.count(429) == REQUESTS - 100


def test_revocation_and_cache_invalidation_reach_every_worker(
    server: RunningServer, api: Api
) -> None:
    """After a logout and an update, no worker accepts the token or serves the old name."""
    user, reader = api.new_user("Old Name"), api.new_user()
    path = f"/api/v1/users/{user.id}"
    for _ in range(8):  # warm every worker's view of the user
        assert api.get(path, token=reader.access).json()["data"]["name"] == "Old Name"
    assert api.put(path, token=user.access, json_body={"name": "New Name"}).status_code == 200
    assert api.post("/api/v1/auth/logout", token=user.access).status_code == 204
    for _ in range(8):  # a new connection each time: spread over the workers
        assert api.get(path, token=reader.access).json()["data"]["name"] == "New Name"
        assert api.get(ME, token=user.access).status_code == 401
