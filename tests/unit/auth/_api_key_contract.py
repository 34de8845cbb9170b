"""API keys: one suite, every store (memory here; SQLAlchemy on SQLite, PostgreSQL and
MariaDB, and the Django ORM, in the integration tests), through the sync and async API.

Subclasses provide a ``keys`` fixture: a [`KeyDriver`] over a fresh service whose clock is
a ``FakeClock``. Every refusal has a valid twin next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from backendkit.auth import ApiKey, ApiKeyService, NewApiKey
from backendkit.errors import Forbidden, InvalidToken, NotFound, ValidationFailed
from backendkit.testing import FakeClock, capture_logs
from backendkit.web import Principal, principal_from_api_key

SERVER_KEY = b"api-key-contract-server-key-0123456789"
ALICE = Principal("alice", scopes=frozenset({"notes:read", "notes:write"}))
BOB = Principal("bob", scopes=frozenset({"notes:read"}))


class KeyDriver:
    """Calls the sync or the async API of one service, with one awaitable interface."""

    def __init__(self, service: ApiKeyService, clock: FakeClock, *, asynchronous: bool) -> None:
        self.service = service
        self.clock = clock
        self.asynchronous = asynchronous

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self.asynchronous:
            return await getattr(self.service, "a" + method)(*args, **kwargs)
        return getattr(self.service, method)(*args, **kwargs)

    async def create(self, creator: Any = ALICE, name: str = "ci", **kw: Any) -> NewApiKey:
        return await self._call("create", creator, name=name, **kw)  # type: ignore[no-any-return]

    async def authenticate(self, presented: str) -> ApiKey:
        return await self._call("authenticate", presented)  # type: ignore[no-any-return]

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        return await self._call("list_keys", user_id)  # type: ignore[no-any-return]

    async def revoke(self, user_id: str, key_id: str) -> None:
        await self._call("revoke", user_id, key_id)


@dataclass
class Tampered:
    """Variants of one valid key, each wrong in one way."""

    valid: str

    def wrong_secret(self) -> str:
        head, _, secret = self.valid.rpartition("_")
        flipped = ("B" if secret[0] == "A" else "A") + secret[1:]
        return f"{head}_{flipped}"

    def unknown_id(self) -> str:
        prefix, key_id, secret = self.valid.split("_", 2)
        other = "0" * 16 if key_id != "0" * 16 else "1" * 16
        return f"{prefix}_{other}_{secret}"


class ApiKeyContract:
    """The behaviour every API-key store must give the service."""

    async def test_created_key_authenticates_as_its_creator(self, keys: KeyDriver) -> None:
        """The full key works once created and names its owner and scopes."""
        new = await keys.create(scopes=["notes:read"])
        accepted = await keys.authenticate(new.secret)
        assert (accepted.user_id, accepted.scopes) == ("alice", frozenset({"notes:read"}))
        assert new.secret.startswith(new.key.prefix + "_")
        assert "***" in repr(new)
        assert new.secret not in repr(new)

    async def test_scopes_default_to_the_creators(self, keys: KeyDriver) -> None:
        """No scopes asked: the key gets all of its creator's."""
        new = await keys.create()
        assert (await keys.authenticate(new.secret)).scopes == ALICE.scopes

    async def test_wrong_secret_is_refused(self, keys: KeyDriver) -> None:
        """One changed character of the secret: 401; the key itself still works."""
        new = await keys.create()
        with capture_logs() as logs, pytest.raises(InvalidToken):
            await keys.authenticate(Tampered(new.secret).wrong_secret())
        assert [e.get("reason") for e in logs if e["event"] == "api_key_rejected"] == ["secret"]
        assert (await keys.authenticate(new.secret)).id == new.key.id

    async def test_unknown_id_is_refused(self, keys: KeyDriver) -> None:
        """A well-formed key whose id no key has: 401 (the valid twin works)."""
        new = await keys.create()
        with pytest.raises(InvalidToken):
            await keys.authenticate(Tampered(new.secret).unknown_id())
        assert (await keys.authenticate(new.secret)).id == new.key.id

    @pytest.mark.parametrize(
        "presented",
        [
            "",
            "bk",
            "bk__",
            "xx_0123456789abcdef_" + "A" * 43,
            "bk_0123456789ABCDEF_" + "A" * 43,
            "bk_0123456789abcdef_" + "A" * 42,
            "bk_0123456789abcdef_" + "A" * 42 + "!",
            "bk_0123456789abcdef_" + "A" * 10_000,
        ],
        ids=[
            "empty",
            "prefix",
            "no-parts",
            "other-prefix",
            "upper-id",
            "short",
            "bad-char",
            "huge",
        ],
    )
    async def test_malformed_key_is_refused_unread(self, keys: KeyDriver, presented: str) -> None:
        """A key of the wrong form is refused before any store read."""
        with capture_logs() as logs, pytest.raises(InvalidToken):
            await keys.authenticate(presented)
        assert [e.get("reason") for e in logs if e["event"] == "api_key_rejected"] == ["malformed"]

    async def test_revoked_key_is_refused_at_once(self, keys: KeyDriver) -> None:
        """Revoked: the next use is a 401, and the key leaves its owner's list."""
        kept, revoked = await keys.create(name="kept"), await keys.create(name="gone")
        await keys.authenticate(revoked.secret)
        await keys.revoke("alice", revoked.key.id)
        with pytest.raises(InvalidToken):
            await keys.authenticate(revoked.secret)
        assert [k.id for k in await keys.list_keys("alice")] == [kept.key.id]
        assert (await keys.authenticate(kept.secret)).id == kept.key.id

    async def test_expired_key_is_refused(self, keys: KeyDriver) -> None:
        """Valid until its expiry, refused from that instant."""
        new = await keys.create(expires_in=3600)
        keys.clock.advance(3599)
        assert (await keys.authenticate(new.secret)).id == new.key.id
        keys.clock.advance(1)
        with pytest.raises(InvalidToken):
            await keys.authenticate(new.secret)

    async def test_scope_escalation_is_refused(self, keys: KeyDriver) -> None:
        """A scope the creator does not hold: 403, nothing stored; its own scopes work."""
        with pytest.raises(Forbidden):
            await keys.create(BOB, scopes=["notes:read", "notes:write"])
        assert await keys.list_keys("bob") == []
        assert (await keys.create(BOB, scopes=["notes:read"])).key.scopes == BOB.scopes

    async def test_api_key_principal_cannot_create_keys(self, keys: KeyDriver) -> None:
        """A caller who authenticated with an API key gets 403; a session creates keys."""
        new = await keys.create()
        machine = principal_from_api_key(await keys.authenticate(new.secret))
        with pytest.raises(Forbidden):
            await keys.create(machine)
        assert (await keys.create(ALICE)).key.user_id == "alice"

    async def test_another_users_key_is_not_found(self, keys: KeyDriver) -> None:
        """Revoking someone else's key is a 404 and leaves it working; the owner can."""
        new = await keys.create(ALICE)
        with pytest.raises(NotFound):
            await keys.revoke("bob", new.key.id)
        assert (await keys.authenticate(new.secret)).id == new.key.id
        with pytest.raises(NotFound):
            await keys.revoke("alice", "0" * 16)
        await keys.revoke("alice", new.key.id)
        with pytest.raises(NotFound):
            await keys.revoke("alice", new.key.id)

    async def test_list_is_the_owners_keys_oldest_first(self, keys: KeyDriver) -> None:
        """Each user lists only their own keys, without secrets."""
        first = await keys.create(name="first")
        keys.clock.advance(1)
        second = await keys.create(name="second", scopes=[])
        await keys.create(BOB)
        listed = await keys.list_keys("alice")
        assert [(k.id, k.name, k.scopes) for k in listed] == [
            (first.key.id, "first", ALICE.scopes),
            (second.key.id, "second", frozenset()),
        ]

    async def test_last_used_is_written_at_most_once_a_minute(self, keys: KeyDriver) -> None:
        """Uses within 60 s of the recorded one change nothing; the next minute's does."""
        new = await keys.create()
        start = keys.clock.now()
        await keys.authenticate(new.secret)
        keys.clock.advance(30)
        await keys.authenticate(new.secret)
        keys.clock.advance(29.5)
        await keys.authenticate(new.secret)
        [listed] = await keys.list_keys("alice")
        assert listed.last_used_at == pytest.approx(start)
        keys.clock.advance(0.5)
        await keys.authenticate(new.secret)
        [listed] = await keys.list_keys("alice")
        assert listed.last_used_at == pytest.approx(start + 60)

    @pytest.mark.parametrize(
        ("options", "field"),
        [({"name": ""}, "name"), ({"name": "x" * 101}, "name"), ({"expires_in": 0}, "expiresIn")],
    )
    async def test_invalid_input_names_the_field(
        self, keys: KeyDriver, options: dict[str, Any], field: str
    ) -> None:
        """An empty or long name, a lifetime that is not positive: 400 on that field."""
        with pytest.raises(ValidationFailed) as caught:
            await keys.create(**options)
        assert [d.field for d in caught.value.details] == [field]
        assert (await keys.create(name="x" * 100, expires_in=1)).key.name == "x" * 100
