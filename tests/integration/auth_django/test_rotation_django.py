"""The rotation contract on the Django token store (SQLite file and PostgreSQL), sync and async.

The concurrency tests race 20 refreshes of one token: threads behind a barrier, each with
its own Django connection (closed as the thread ends), or gathered tasks (Django runs them
through ``sync_to_async``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from tests.unit.auth._rotation_contract import Driver, MakeDriver, RotationContract, key

from backendkit.adapters.django.tokenstore import DjangoTokenStore
from backendkit.adapters.django.tokenstore.models import DeniedToken, TokenSession, UserCutoff
from backendkit.auth import TokenService
from backendkit.testing import FakeClock


class DjangoDriver(Driver):
    """The sync API runs in Django's sync thread: the contract's tests are coroutines."""

    async def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await super()._call(name, *args, **kwargs)
        return await sync_to_async(getattr(self.service, name))(*args, **kwargs)

    def thread_done(self) -> None:
        connections.close_all()


def _clear(alias: str) -> None:
    for model in (TokenSession, DeniedToken, UserCutoff):
        model.objects.using(alias).all().delete()
    connections.close_all()


@pytest.fixture(params=["sync", "async"])
async def make(
    request: pytest.FixtureRequest, alias: str, fake_clock: FakeClock
) -> AsyncIterator[MakeDriver]:
    store = DjangoTokenStore(alias, clock=fake_clock)

    def _make(**options: Any) -> Driver:
        service = TokenService(key(), store=store, clock=fake_clock, **options)
        return DjangoDriver(service, fake_clock, asynchronous=request.param == "async")

    yield _make
    await sync_to_async(_clear)(alias)  # and close the connection of Django's sync thread


class TestRotationOnDjango(RotationContract):
    """Every rotation guarantee, through the Django ORM."""
