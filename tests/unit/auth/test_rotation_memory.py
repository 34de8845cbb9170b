"""The rotation contract on the memory store, through the sync and the async API."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.auth._rotation_contract import Driver, MakeDriver, RotationContract, key

from backendkit.auth import MemoryTokenStore, TokenService
from backendkit.testing import FakeClock


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest, fake_clock: FakeClock) -> MakeDriver:
    store = MemoryTokenStore()

    def _make(**options: Any) -> Driver:
        service = TokenService(key(), store=store, clock=fake_clock, **options)
        return Driver(service, fake_clock, asynchronous=request.param == "async")

    return _make


class TestRotationOnMemory(RotationContract):
    """Every rotation guarantee, in one process."""
