"""DjangoApiKeyStore: the API-key contract on the Django ORM (SQLite and PostgreSQL, sync and
async through sync_to_async), its migration, and a database that is down."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections
from tests._services import DeadPort
from tests.unit.auth._api_key_contract import ALICE, SERVER_KEY, ApiKeyContract, KeyDriver

from backendkit.adapters.django.apikeys import DjangoApiKeyStore
from backendkit.adapters.django.apikeys.models import StoredApiKey
from backendkit.auth import ApiKeyService
from backendkit.errors import BackendUnavailable
from backendkit.testing import FakeClock


def _clear(alias: str) -> None:
    StoredApiKey.objects.using(alias).all().delete()
    connections.close_all()


class DjangoKeyDriver(KeyDriver):
    """The sync API runs in Django's sync thread: the contract's tests are coroutines."""

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await super()._call(method, *args, **kwargs)
        return await sync_to_async(getattr(self.service, method))(*args, **kwargs)


class TestDjangoStore(ApiKeyContract):
    @pytest.fixture(params=["sync", "async"])
    async def keys(self, request: pytest.FixtureRequest, alias: str) -> AsyncIterator[KeyDriver]:
        clock = FakeClock()
        service = ApiKeyService(DjangoApiKeyStore(alias), keys=[SERVER_KEY], clock=clock)
        yield DjangoKeyDriver(service, clock, asynchronous=request.param == "async")
        await sync_to_async(_clear)(alias)  # and close the connection of Django's sync thread


def test_migrations_match_the_model() -> None:
    """makemigrations --check finds nothing to do for the apikeys app."""
    out = io.StringIO()
    call_command(
        "makemigrations", "backendkit_apikeys", "--check", "--dry-run", stdout=out, stderr=out
    )
    assert "No changes detected" in out.getvalue()


def test_the_table_is_keyed_by_the_public_id(alias: str) -> None:
    """bk_dj_api_keys: the public id is the primary key, user_id is indexed, no secret kept."""
    service = ApiKeyService(DjangoApiKeyStore(alias), keys=[SERVER_KEY])
    new = service.create(ALICE, name="ci")
    try:
        row = StoredApiKey.objects.using(alias).get(pk=new.key.id)
        secret = new.secret.split("_", 2)[2]  # the secret itself may contain "_"
        assert secret not in str(vars(row))
        with connections[alias].cursor() as cursor:
            constraints = connections[alias].introspection.get_constraints(cursor, "bk_dj_api_keys")
        assert any(c["primary_key"] and c["columns"] == ["id"] for c in constraints.values())
        assert any(c["index"] and c["columns"] == ["user_id"] for c in constraints.values())
    finally:
        _clear(alias)


def test_the_last_used_write_is_conditional(alias: str) -> None:
    """A second worker's write within the minute changes nothing; a minute later it does."""
    store = DjangoApiKeyStore(alias)
    clock = FakeClock()
    new = ApiKeyService(store, keys=[SERVER_KEY], clock=clock).create(ALICE, name="ci")
    now = clock.now()
    try:
        store.touch(new.key.id, now, now - 60)
        store.touch(new.key.id, now + 1, now + 1 - 60)
        record = store.get(new.key.id)
        assert record is not None
        assert record.key.last_used_at == pytest.approx(now)
        store.touch(new.key.id, now + 60, now)
        record = store.get(new.key.id)
        assert record is not None
        assert record.key.last_used_at == pytest.approx(now + 60)
    finally:
        _clear(alias)


def test_a_database_that_is_down_is_a_503() -> None:
    """An alias whose server refuses connections: BackendUnavailable (503), not a 401."""
    dead = DeadPort()
    refused = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "x",
        "USER": "u",
        "HOST": "127.0.0.1",
        "PORT": str(dead.port),
    }
    connections.settings["down"] = connections.configure_settings({"default": refused})["default"]
    try:
        service = ApiKeyService(DjangoApiKeyStore("down"), keys=[SERVER_KEY])
        with pytest.raises(BackendUnavailable):
            service.authenticate("bk_0123456789abcdef_" + "A" * 43)
    finally:
        connections["down"].close()
        del connections.settings["down"]
        dead.close()
