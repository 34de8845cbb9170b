"""DjangoOneTimeTokenStore: the one-time token contract on the Django ORM (SQLite file,
PostgreSQL and MariaDB; sync, and async through sync_to_async), with 20 consumes of one
token racing on their own connections; its migrations, its table, clean-up, and a database
that is down."""

from __future__ import annotations

import io
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections
from tests._services import DeadPort
from tests.unit.auth._one_time_contract import ANN, SERVER_KEY, Driver, OneTimeContract, Outbox

from backendkit.adapters.django.onetime import DjangoOneTimeTokenStore
from backendkit.adapters.django.onetime.models import StoredOneTimeToken
from backendkit.auth import (
    PASSWORD_RESET,
    AsyncOneTimeTokenStore,
    OneTimeToken,
    OneTimeTokens,
    OneTimeTokenStore,
)
from backendkit.errors import BackendUnavailable
from backendkit.testing import FakeClock


def _clear(alias: str) -> None:
    StoredOneTimeToken.objects.using(alias).all().delete()
    connections.close_all()


class DjangoDriver(Driver):
    """The sync API runs in Django's sync thread (the contract's tests are coroutines);
    each racing thread closes its own connection as it ends."""

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await super()._call(method, *args, **kwargs)
        return await sync_to_async(getattr(self.service, method))(*args, **kwargs)

    async def race(self, token: str, n: int) -> list[OneTimeToken | Exception]:
        if self.asynchronous:
            return await super().race(token, n)
        barrier = threading.Barrier(n)
        out: list[OneTimeToken | Exception] = [RuntimeError("not run")] * n

        def worker(i: int) -> None:
            barrier.wait(timeout=10)
            try:
                out[i] = self.service.consume(PASSWORD_RESET, token)
            except Exception as exc:
                out[i] = exc
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        return out


class TestDjangoStore(OneTimeContract):
    @pytest.fixture(params=["sync", "async"])
    async def ott(self, request: pytest.FixtureRequest, alias: str) -> AsyncIterator[Driver]:
        clock, outbox = FakeClock(), Outbox()
        store = DjangoOneTimeTokenStore(alias)
        service = OneTimeTokens(store, keys=[SERVER_KEY], sender=outbox, clock=clock)
        yield DjangoDriver(service, clock, outbox, asynchronous=request.param == "async")
        await sync_to_async(_clear)(alias)  # and close the connection of Django's sync thread


def test_the_store_implements_both_protocols() -> None:
    """One store serves OneTimeTokens' sync and async methods."""
    store = DjangoOneTimeTokenStore()
    assert isinstance(store, OneTimeTokenStore)
    assert isinstance(store, AsyncOneTimeTokenStore)
    assert repr(store) == "DjangoOneTimeTokenStore(using='default')"


def test_migrations_match_the_model() -> None:
    """makemigrations --check finds nothing to do for the onetime app."""
    out = io.StringIO()
    call_command(
        "makemigrations", "backendkit_onetime", "--check", "--dry-run", stdout=out, stderr=out
    )
    assert "No changes detected" in out.getvalue()


def test_the_table_holds_digests_never_tokens(alias: str) -> None:
    """bk_dj_one_time_tokens: keyed by the digest, indexed by (user, purpose); the row has
    no trace of the token."""
    outbox = Outbox()
    service = OneTimeTokens(
        DjangoOneTimeTokenStore(alias), keys=[SERVER_KEY], sender=outbox, clock=FakeClock()
    )
    try:
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        rows = list(StoredOneTimeToken.objects.using(alias).values())
        assert len(rows) == 1
        assert rows[0]["user_id"] == "7"
        assert outbox.last() not in repr(rows)
        with connections[alias].cursor() as cursor:
            constraints = connections[alias].introspection.get_constraints(
                cursor, "bk_dj_one_time_tokens"
            )
        assert any(c["primary_key"] and c["columns"] == ["digest"] for c in constraints.values())
        assert any(
            c["index"] and c["columns"] == ["user_id", "purpose"] for c in constraints.values()
        )
    finally:
        _clear(alias)


def test_expired_rows_are_cleaned_up(alias: str) -> None:
    """A new token deletes the same user's expired ones for its purpose; purge_expired
    (by the store's clock, or at a given time) deletes the rest; live rows stay."""
    clock = FakeClock()
    store = DjangoOneTimeTokenStore(alias, clock=clock)
    service = OneTimeTokens(store, keys=[SERVER_KEY], sender=Outbox(), clock=clock)
    rows = StoredOneTimeToken.objects.using(alias)
    try:
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        service.issue(PASSWORD_RESET, "bob@example.com", user_id="8", address=None)
        clock.advance(service.ttl(PASSWORD_RESET))
        service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
        assert rows.count() == 2
        assert store.purge_expired() == 1
        assert list(rows.values_list("user_id", flat=True)) == ["7"]
        assert store.purge_expired(clock.now()) == 0  # the live one stays
        assert rows.count() == 1
    finally:
        _clear(alias)


def test_the_management_command_deletes_expired_rows(alias: str) -> None:
    """Tokens whose expiry (by the system clock) has passed go; the command says how many."""
    store = DjangoOneTimeTokenStore(alias)
    store.add("a" * 64, OneTimeToken(PASSWORD_RESET, "7", ANN, 1.0, 2.0))
    store.add("b" * 64, OneTimeToken(PASSWORD_RESET, "8", ANN, 1.0, 4e9))
    try:
        out = io.StringIO()
        call_command("backendkit_purge_one_time_tokens", database=alias, stdout=out)
        assert out.getvalue().strip() == "purged 1 expired one-time tokens"
        remaining = StoredOneTimeToken.objects.using(alias).values_list("digest", flat=True)
        assert list(remaining) == ["b" * 64]
    finally:
        _clear(alias)


def test_a_database_that_is_down_is_a_503() -> None:
    """An alias whose server refuses connections: BackendUnavailable (503) on consume and
    on issue, never an invalid-token 400."""
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
        service = OneTimeTokens(DjangoOneTimeTokenStore("down"), keys=[SERVER_KEY], sender=Outbox())
        with pytest.raises(BackendUnavailable):
            service.consume(PASSWORD_RESET, "A" * 43)
        with pytest.raises(BackendUnavailable):
            service.issue(PASSWORD_RESET, ANN, user_id="7", address=None)
    finally:
        connections["down"].close()
        del connections.settings["down"]
        dead.close()


def test_the_package_exports_only_its_store() -> None:
    """backendkit.adapters.django.onetime names DjangoOneTimeTokenStore lazily, nothing else."""
    import backendkit.adapters.django.onetime as onetime

    assert onetime.__all__ == ["DjangoOneTimeTokenStore"]
    assert onetime.DjangoOneTimeTokenStore is DjangoOneTimeTokenStore
    with pytest.raises(AttributeError):
        _ = onetime.Missing
