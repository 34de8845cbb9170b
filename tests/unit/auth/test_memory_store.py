"""MemoryTokenStore specifics: expiry of records, sweeping, URL construction."""

from __future__ import annotations

import pytest

from backendkit.auth import (
    AsyncTokenStore,
    MemoryTokenStore,
    NewSession,
    RotationRequest,
    TokenStore,
    token_store_from_url,
)
from backendkit.errors import ConfigurationError


def _rotate(store: MemoryTokenStore, old: str, new: str, now: float) -> str:
    request = RotationRequest("u", "s1", old, new, '{"pair": 1}', now, 5.0, now + 100)
    return store.rotate(request).status


def test_memory_store_implements_both_protocols() -> None:
    """One memory store serves the sync and the async API."""
    store = MemoryTokenStore()
    assert isinstance(store, TokenStore)
    assert isinstance(store, AsyncTokenStore)


def test_sessions_expire_with_their_refresh_token() -> None:
    """A session past expires_at is unknown, however it is asked about."""
    store = MemoryTokenStore()
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    assert store.check("u", None, "s1", 0.0, now=99.0) is None
    assert store.check("u", None, "s1", 0.0, now=100.0) == "session_unknown"
    assert _rotate(store, "j1", "j2", now=100.0) == "unknown"


def test_rotation_extends_the_session() -> None:
    """Each rotation moves the session's expiry to the new token's."""
    store = MemoryTokenStore()
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=100.0))
    assert _rotate(store, "j1", "j2", now=50.0) == "rotated"  # expires_at = 150
    assert store.check("u", None, "s1", 0.0, now=149.0) is None


def test_denied_ids_expire() -> None:
    """A denied jti is forgotten once the token could no longer verify anyway."""
    store = MemoryTokenStore()
    store.revoke_token("u", "j1", expires_at=10.0, now=0.0)
    assert store.check("u", "j1", None, 0.0, now=9.0) == "token_revoked"
    assert store.check("u", "j1", None, 0.0, now=10.0) is None
    store.revoke_token("u", "j2", expires_at=5.0, now=6.0)  # already expired: nothing kept
    assert store.check("u", "j2", None, 0.0, now=6.0) is None


def test_user_cutoff_expires_and_never_moves_back() -> None:
    """revoke_user's cut-off expires after `until` and a later call cannot lower it."""
    store = MemoryTokenStore()
    store.revoke_user("u", now=50.0, until=200.0)
    store.revoke_user("u", now=40.0, until=200.0)  # an out-of-order, older call
    assert store.check("u", None, None, 45.0, now=60.0) == "user_revoked"
    assert store.check("u", None, None, None, now=60.0) == "user_revoked"
    assert store.check("u", None, None, 50.0, now=60.0) is None
    assert store.check("u", None, None, 45.0, now=200.0) is None


def test_sweep_purges_expired_records() -> None:
    """Expired records are purged on the next write after the sweep interval."""
    store = MemoryTokenStore(sweep_interval=10.0)
    store.create_session(NewSession("u", "s1", "j1", now=0.0, expires_at=5.0))
    store.revoke_token("u", "j9", expires_at=5.0, now=0.0)
    assert len(store) == 3  # session, denied id, user
    store.revoke_token("v", "j8", expires_at=100.0, now=20.0)  # triggers a sweep
    assert len(store) == 1


def test_revoke_session_of_unknown_session_is_harmless() -> None:
    """Revoking a session that does not exist changes nothing."""
    store = MemoryTokenStore()
    store.revoke_session("u", "nope", now=0.0)
    assert len(store) == 0


@pytest.mark.parametrize("url", ["memory://", "MEMORY://"])
def test_memory_url(url: str) -> None:
    """memory:// builds a MemoryTokenStore."""
    assert isinstance(token_store_from_url(url), MemoryTokenStore)


@pytest.mark.parametrize("url", ["", "memcached://x", "sqlite:///tokens.db", "redis"])
def test_unknown_urls_are_refused(url: str) -> None:
    """Unknown schemes are a configuration error naming the supported ones."""
    with pytest.raises(ConfigurationError, match="memory:// or redis://"):
        token_store_from_url(url)
