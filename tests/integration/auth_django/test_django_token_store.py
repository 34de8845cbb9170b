"""DjangoTokenStore specifics: migrations in step with the models, clean-up (the store's and
``manage.py backendkit_purge_tokens``), upserts under a race, failing closed, configuration."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.db import connections
from tests._services import DeadPort

from backendkit.adapters.django.tokenstore import DjangoTokenStore
from backendkit.adapters.django.tokenstore.models import DeniedToken, TokenSession, UserCutoff
from backendkit.auth import AsyncTokenStore, JWTKey, NewSession, TokenService, TokenStore
from backendkit.errors import BackendUnavailable, ConfigurationError
from backendkit.testing import FakeClock, capture_logs

SECRET = b"django-store-test-secret-0123456789"


@pytest.fixture
def store(alias: str) -> Iterator[DjangoTokenStore]:
    yield DjangoTokenStore(alias, purge_interval=None)
    for model in (TokenSession, DeniedToken, UserCutoff):
        model.objects.using(alias).all().delete()


def test_migrations_match_the_models() -> None:
    """makemigrations --check finds nothing to do for the token store app."""
    out = io.StringIO()
    call_command(
        "makemigrations", "backendkit_tokenstore", "--check", "--dry-run", stdout=out, stderr=out
    )
    assert "No changes detected" in out.getvalue()


def test_store_implements_both_protocols(store: DjangoTokenStore) -> None:
    """One store class serves the sync and the async API."""
    assert isinstance(store, TokenStore)
    assert isinstance(store, AsyncTokenStore)
    assert repr(store).startswith("DjangoTokenStore(using=")


def test_purge_and_the_management_command(store: DjangoTokenStore, alias: str) -> None:
    """Expired rows and stale grace pairs go; live rows stay."""
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=50.0))
    store.create_session(NewSession("u", "s2", "k1", now=0.0, expires_at=1e12))
    store.revoke_token("u", "j9", expires_at=50.0, now=0.0)
    store.revoke_user("v", now=0.0, until=50.0)
    assert store.purge_expired(now=49.0) == 0
    assert store.purge_expired(now=50.0) == 3
    store.revoke_token("u", "j8", expires_at=60.0, now=0.0)  # long expired by the real clock
    out = io.StringIO()
    call_command("backendkit_purge_tokens", "--database", alias, stdout=out)
    assert out.getvalue().strip() == "purged 1 expired token store rows"
    assert list(TokenSession.objects.using(alias).values_list("sid", flat=True)) == ["s2"]


def test_the_store_purges_after_writes_once_per_interval(
    alias: str, store: DjangoTokenStore
) -> None:
    """Logins and refreshes purge at most once per purge_interval."""
    purging = DjangoTokenStore(alias, purge_interval=100.0)
    purging.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=10.0))
    purging.create_session(NewSession("u", "s2", "k1", now=20.0, expires_at=500.0))
    assert TokenSession.objects.using(alias).count() == 2
    service_time = 100.0
    purging.create_session(NewSession("u", "s3", "m1", now=service_time, expires_at=500.0))
    assert TokenSession.objects.using(alias).count() == 2  # s1 went


def test_grace_pairs_are_cleared_after_their_window(store: DjangoTokenStore, alias: str) -> None:
    """The stored pair holds a live token: the clean-up clears it once the window ended."""
    from backendkit.auth import RotationRequest

    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=500.0))
    request = RotationRequest("u", "s1", "j1", "j2", '{"p": 1}', 10.0, 5.0, 500.0)
    assert store.rotate(request).status == "rotated"
    assert store.purge_expired(now=15.0) == 1
    assert TokenSession.objects.using(alias).get().grace_pair is None


def test_checks_denials_and_cutoffs(store: DjangoTokenStore) -> None:
    """Denials and cut-offs answer checks, never move back, and expire."""
    store.revoke_token("u", "j1", expires_at=100.0, now=0.0)
    store.revoke_token("u", "j1", expires_at=20.0, now=1.0)
    store.revoke_token("u", "j2", expires_at=5.0, now=6.0)  # already expired: nothing kept
    assert store.check("u", "j1", None, 0.0, now=50.0) == "token_revoked"
    assert store.check("u", "j1", None, 0.0, now=100.0) is None
    assert store.check("u", "j2", None, 0.0, now=6.0) is None
    store.revoke_user("u", now=50.0, until=200.0)
    store.revoke_user("u", now=40.0, until=100.0)
    assert store.check("u", None, None, 45.0, now=60.0) == "user_revoked"
    assert store.check("u", None, None, 50.0, now=60.0) is None
    assert store.check("u", None, None, 45.0, now=200.0) is None


def test_racing_revocations_of_a_new_user_all_land(store: DjangoTokenStore, alias: str) -> None:
    """20 threads revoke one user at once: none fails, the cut-off is the latest time."""
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            store.revoke_user("racer", now=float(i), until=1000.0 + i)
            store.revoke_token("racer", "j", expires_at=500.0 + i, now=0.0)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    cutoff = UserCutoff.objects.using(alias).get(sub="racer")
    assert (cutoff.not_before, cutoff.expires_at) == (19.0, 1019.0)
    assert DeniedToken.objects.using(alias).get(sub="racer").expires_at == 519.0


async def test_async_ping_and_revocations(store: DjangoTokenStore) -> None:
    """The async twins reach the same rows."""
    await store.aping()
    await store.acreate_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    await store.arevoke_session("u", "s1", now=1.0)
    assert await store.acheck("u", None, "s1", 0.0, now=1.0) == "session_revoked"
    await store.arevoke_token("u", "j5", expires_at=100.0, now=0.0)
    assert await store.acheck("u", "j5", None, 0.0, now=1.0) == "token_revoked"
    await store.arevoke_user("u", now=2.0, until=100.0)
    assert await store.acheck("u", None, None, 1.0, now=3.0) == "user_revoked"
    await sync_to_async(connections.close_all)()  # the connection of Django's sync thread


def _dead_alias(name: str, database: dict[str, object]) -> str:
    connections.settings[name] = connections.configure_settings({"default": database})["default"]
    return name


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_dead_database_fails_closed(
    vendor: str, tmp_path: Path, dead_redis: DeadPort, fake_clock: FakeClock
) -> None:
    """Nothing answers: login, refresh, checks and revocation raise 503, never succeed."""
    if vendor == "sqlite":
        database: dict[str, object] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "missing" / "db.sqlite3"),
        }
    else:
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "db",
            "USER": "u",
            "HOST": "127.0.0.1",
            "PORT": str(dead_redis.port),
        }
    alias = _dead_alias(f"dead_{vendor}", database)
    key = JWTKey.hmac(SECRET, kid="dj-1")
    pair = TokenService(key, clock=fake_clock).issue_pair("u1")
    store = DjangoTokenStore(alias, clock=fake_clock)
    service = TokenService(key, store=store, clock=fake_clock)
    with capture_logs() as logs:
        for call in (
            service.ensure_available,
            lambda: service.issue_pair("u1"),
            lambda: service.refresh(pair.refresh_token),
            lambda: service.verify_access(pair.access_token, check_revoked=True),
            lambda: service.revoke(pair.refresh_token),
            lambda: service.revoke_user("u1"),
            store.purge_expired,
        ):
            with pytest.raises(BackendUnavailable) as refused:
                call()
            assert refused.value.status == 503
    assert "database_error" in [e["event"] for e in logs]
    connections[alias].close()
    del connections.settings[alias]


def test_a_failed_opportunistic_purge_is_logged_not_raised(
    store: DjangoTokenStore, alias: str
) -> None:
    """A clean-up that fails after a login is a warning; the login stands."""
    purging = DjangoTokenStore(alias, purge_interval=60.0)
    purging.purge_expired = _failing_purge  # type: ignore[method-assign]
    with capture_logs() as logs:
        purging.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    assert "token_store_purge_failed" in [e["event"] for e in logs]
    assert TokenSession.objects.using(alias).filter(sid="s1").exists()


def _failing_purge(now: float | None = None) -> int:
    raise BackendUnavailable("The database is temporarily unavailable")


def test_bad_interval_is_refused() -> None:
    """purge_interval must be positive or None; the valid twin builds."""
    with pytest.raises(ConfigurationError, match="purge_interval"):
        DjangoTokenStore(purge_interval=0)
    assert repr(DjangoTokenStore(purge_interval=None)) == "DjangoTokenStore(using='default')"


def test_the_package_offers_only_the_store() -> None:
    """DjangoTokenStore resolves lazily; any other name is an AttributeError."""
    import backendkit.adapters.django.tokenstore as tokenstore

    assert tokenstore.DjangoTokenStore is DjangoTokenStore
    with pytest.raises(AttributeError, match="no attribute 'TokenSession'"):
        _ = tokenstore.TokenSession


def test_ids_are_compared_exactly(store: DjangoTokenStore) -> None:
    """Users whose ids differ only by case are different users, MariaDB included."""
    store.create_session(NewSession("Alice", "s1", "j1", now=0.0, expires_at=100.0))
    store.create_session(NewSession("alice", "s1", "j1", now=0.0, expires_at=100.0))
    store.revoke_user("alice", now=1.0, until=100.0)
    assert store.check("alice", None, "s1", 0.0, now=2.0) == "session_revoked"
    assert store.check("Alice", None, "s1", 0.0, now=2.0) is None
    assert store.check("Alice", None, None, 0.0, now=2.0) is None
