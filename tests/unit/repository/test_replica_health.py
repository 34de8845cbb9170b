"""A replica's health: when reads try it, and how often its outage is logged."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from backendkit.repository import build_engine
from backendkit.repository._replicas import Replica
from backendkit.testing import FakeClock, capture_logs


@pytest.fixture
def engines() -> Iterator[tuple[sa.Engine, sa.Engine]]:
    primary, replica = build_engine("sqlite://"), build_engine("sqlite://")
    yield primary, replica
    primary.dispose()
    replica.dispose()


def test_a_failed_replica_is_tried_once_per_interval(engines: tuple[sa.Engine, sa.Engine]) -> None:
    """Up: always tried. Down: not tried until the interval has passed, then one trial
    (concurrent readers keep the primary until it reports)."""
    clock = FakeClock()
    replica = Replica(engines[1], engines[0], retry_interval=10, clock=clock)
    assert replica.should_try()
    assert replica.should_try()
    replica.failed(ConnectionRefusedError())
    assert not replica.should_try()
    clock.advance(10)
    assert replica.should_try()
    assert not replica.should_try()
    with capture_logs() as logs:
        replica.reached()
        replica.reached()
    assert [log["event"] for log in logs] == ["replica_recovered"]
    assert replica.should_try()


def test_outage_warnings_are_held_to_one_per_interval(
    engines: tuple[sa.Engine, sa.Engine],
) -> None:
    """Failures inside the interval (concurrent first reads) are counted into the next
    warning, not logged one by one."""
    clock = FakeClock()
    replica = Replica(engines[1], engines[0], retry_interval=10, clock=clock)
    with capture_logs() as logs:
        for _ in range(3):
            replica.failed(ConnectionRefusedError())
        clock.advance(10)
        replica.failed(TimeoutError())
    warnings = [(log["error"], log["suppressed"]) for log in logs]
    assert warnings == [("ConnectionRefusedError", 0), ("TimeoutError", 2)]
