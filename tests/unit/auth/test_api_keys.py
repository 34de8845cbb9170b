"""API keys on the memory store (the shared contract, sync and async), and what the service
decides alone: server keys and their rotation, settings, prefixes, store flavours."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.auth._api_key_contract import ALICE, SERVER_KEY, ApiKeyContract, KeyDriver

from backendkit.auth import ApiKeyService, MemoryApiKeyStore
from backendkit.auth._api_key_core import ApiKeyDigester, parse_key
from backendkit.errors import ConfigurationError
from backendkit.settings import Settings
from backendkit.testing import FakeClock, capture_logs


class TestMemoryStore(ApiKeyContract):
    @pytest.fixture(params=["sync", "async"])
    def keys(self, request: pytest.FixtureRequest) -> KeyDriver:
        clock = FakeClock()
        service = ApiKeyService(MemoryApiKeyStore(), keys=[SERVER_KEY], clock=clock)
        return KeyDriver(service, clock, asynchronous=request.param == "async")


def test_last_used_writes_are_counted_once_per_minute() -> None:
    """Sixty uses in one minute write last_used_at once; the next minute writes again."""
    clock, store = FakeClock(), MemoryApiKeyStore()
    service = ApiKeyService(store, keys=[SERVER_KEY], clock=clock)
    new = service.create(ALICE, name="ci")
    for _ in range(60):
        service.authenticate(new.secret)
        clock.advance(0.99)
    assert store.touches == 1
    assert len(store) == 1
    clock.advance(1)
    service.authenticate(new.secret)
    assert store.touches == 2


def test_a_rotated_server_key_still_accepts_older_keys() -> None:
    """Keys created before a rotation keep working; a service without the old key refuses them."""
    store = MemoryApiKeyStore()
    old = ApiKeyService(store, keys=[b"o" * 32]).create(ALICE, name="old")
    rotated = ApiKeyService(store, keys=["n" * 32, b"o" * 32])
    assert rotated.authenticate(old.secret).id == old.key.id
    new = rotated.create(ALICE, name="new")
    assert store.get(new.key.id).digest != store.get(old.key.id).digest  # type: ignore[union-attr]
    with pytest.raises(Exception, match="invalid"):
        ApiKeyService(store, keys=[b"n" * 32]).authenticate(old.secret)


def test_digest_is_an_hmac_of_id_and_secret() -> None:
    """The stored digest is HMAC-SHA256(server key, "<id>:<secret>"), hex, never the secret."""
    import hashlib
    import hmac

    store = MemoryApiKeyStore()
    new = ApiKeyService(store, keys=[SERVER_KEY]).create(ALICE, name="ci")
    parts = parse_key(new.secret, "bk")
    assert parts is not None
    expected = hmac.new(SERVER_KEY, f"{parts.id}:{parts.secret}".encode(), hashlib.sha256)
    record = store.get(new.key.id)
    assert record is not None
    assert record.digest == expected.hexdigest()
    assert parts.secret not in repr(record)


def test_keys_carry_256_random_bits_and_never_repeat() -> None:
    """43 base64url characters of secret (32 bytes from secrets) and a 64-bit id, all distinct."""
    service = ApiKeyService(MemoryApiKeyStore(), keys=[SERVER_KEY])
    made = [service.create(ALICE, name="k").secret for _ in range(200)]
    parts = [parse_key(m, "bk") for m in made]
    assert all(p is not None and len(p.secret) == 43 and len(p.id) == 16 for p in parts)
    assert len({p.id for p in parts if p}) == len({p.secret for p in parts if p}) == 200


@pytest.mark.parametrize("keys", [[], [b"short"], [b"k" * 32, b"k" * 31]])
def test_short_or_missing_server_keys_are_refused(keys: list[bytes]) -> None:
    """Every server key must have 32 bytes; 32 bytes is accepted."""
    with pytest.raises(ConfigurationError):
        ApiKeyDigester(keys)
    assert ApiKeyDigester([b"k" * 32]) is not None


@pytest.mark.parametrize("prefix", ["", "BK", "1bk", "b_k", "x" * 17])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    """Prefixes are 1-16 lower-case letters or digits, a letter first; ``acme1`` is fine."""
    with pytest.raises(ConfigurationError):
        ApiKeyService(MemoryApiKeyStore(), keys=[SERVER_KEY], prefix=prefix)
    service = ApiKeyService(MemoryApiKeyStore(), keys=[SERVER_KEY], prefix="acme1")
    new = service.create(ALICE, name="ci")
    assert new.secret.startswith("acme1_")
    assert service.authenticate(new.secret)


def test_creator_methods_can_admit_provider_sessions() -> None:
    """Provider-token callers create keys only when the service says so."""
    from backendkit.errors import Forbidden
    from backendkit.web import Principal

    provider_user = Principal("7", scopes=frozenset({"a"}), method="provider")
    with pytest.raises(Forbidden):
        ApiKeyService(MemoryApiKeyStore(), keys=[SERVER_KEY]).create(provider_user, name="k")
    service = ApiKeyService(
        MemoryApiKeyStore(), keys=[SERVER_KEY], creator_methods=("bearer", "provider")
    )
    assert service.create(provider_user, name="k").key.user_id == "7"


def test_from_settings_prefers_the_api_key_secret() -> None:
    """BACKENDKIT_API_KEY_SECRET is the server key; without it, one derived from secret_key."""
    store = MemoryApiKeyStore()
    secret = "a" * 32
    explicit = ApiKeyService.from_settings(
        Settings(env="production", secret_key="s" * 32, api_key_secret=secret), store
    )
    new = explicit.create(ALICE, name="k")
    assert ApiKeyService(store, keys=[secret]).authenticate(new.secret)
    derived = ApiKeyService.from_settings(Settings(env="production", secret_key="s" * 32), store)
    other = derived.create(ALICE, name="k")
    with pytest.raises(Exception, match="invalid"):
        ApiKeyService(store, keys=[secret]).authenticate(other.secret)
    assert derived.authenticate(other.secret)


def test_short_api_key_secret_is_refused_by_settings() -> None:
    """A 31-byte BACKENDKIT_API_KEY_SECRET stops the start, naming the variable, not its value."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_API_KEY_SECRET") as caught:
        Settings.from_env({"BACKENDKIT_API_KEY_SECRET": "z" * 31, "BACKENDKIT_ENV": "test"})
    assert "z" * 31 not in str(caught.value)
    assert Settings.from_env({"BACKENDKIT_API_KEY_SECRET": "z" * 32, "BACKENDKIT_ENV": "test"})


def test_development_without_secrets_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret at all (development only): a public derived key and one warning per process."""
    from backendkit.auth import _api_keys

    monkeypatch.setattr(_api_keys, "_dev_key_warned", False)
    with capture_logs() as logs:
        ApiKeyService.from_settings(Settings(env="development"), MemoryApiKeyStore())
        ApiKeyService.from_settings(Settings(env="development"), MemoryApiKeyStore())
    assert [e["event"] for e in logs].count("development_api_key_secret") == 1


class _SyncOnly:
    def __init__(self) -> None:
        self._inner = MemoryApiKeyStore()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("a"):
            raise AttributeError(name)
        return getattr(self._inner, name)


async def test_a_store_serves_only_its_flavour() -> None:
    """A sync-only store refuses the a-methods with a ConfigurationError, and vice versa."""
    store = _SyncOnly()
    for name in ("add", "get", "list_for", "revoke", "touch"):
        setattr(store, name, getattr(store._inner, name))
    service = ApiKeyService(store, keys=[SERVER_KEY])  # type: ignore[arg-type]
    assert service.supports("sync")
    assert not service.supports("async")
    new = service.create(ALICE, name="k")
    with pytest.raises(ConfigurationError, match="sync"):
        await service.aauthenticate(new.secret)
    assert service.authenticate(new.secret).id == new.key.id
