"""The FastAPI and Flask examples' ``user_loader`` on a migrated database (no server):
provider users created once, even when two workers race; links gone with the user; API
keys acting as an owner that still exists."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from examples._shared.auth_extras import provider_email
from examples._shared.migrate import upgrade_head
from examples.fastapi_app import linking as async_linking
from examples.fastapi_app.models import ProviderIdentity, User
from examples.flask_app import linking as sync_linking

from backendkit.errors import Conflict
from backendkit.repository import (
    build_async_engine,
    build_async_session_factory,
    build_engine,
    build_session_factory,
)
from backendkit.settings import Settings
from backendkit.testing import capture_logs
from backendkit.web import LinkedUser, Principal

ISSUER = "https://login.example.com/realms/main"
SETTINGS = Settings(env="test", secret_key=["k" * 32])


class Linker:
    """One example's linker, called the same way whichever flavour it is."""

    def __init__(self, app: str, path: Path) -> None:
        self.app = app
        url = f"sqlite:///{path}"
        upgrade_head(app, url if app == "flask" else f"sqlite+aiosqlite:///{path}")
        self.engine = build_engine(url)  # to look at the rows, foreign keys on
        if app == "flask":
            self.linker: Any = sync_linking.UserLinker(SETTINGS, build_session_factory(self.engine))
            self.async_engine = None
        else:
            self.async_engine = build_async_engine(f"sqlite+aiosqlite:///{path}")
            self.linker = async_linking.UserLinker(
                SETTINGS, build_async_session_factory(self.async_engine)
            )

    def __call__(self, principal: Principal) -> LinkedUser | None:
        result = self.linker(principal)
        if self.app == "fastapi":
            result = asyncio.run(result)
        assert result is None or isinstance(result, LinkedUser)
        return result

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(table)).mappings())

    def execute(self, statement: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)

    def close(self) -> None:
        self.engine.dispose()
        if self.async_engine is not None:
            asyncio.run(self.async_engine.dispose())


@pytest.fixture(params=["fastapi", "flask"])
def linker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Linker]:
    """The app's linker on a SQLite file at the migrations' head."""
    found = Linker(request.param, tmp_path / "app.db")
    try:
        yield found
    finally:
        found.close()


def _provider(sub: str, **claims: Any) -> Principal:
    return Principal(
        user_id=f"{ISSUER}#{sub}",
        claims=claims,  # a mapping: .get() as ProviderClaims has it
        issuer=ISSUER,
        method="provider",
        subject=sub,
    )


def test_a_provider_user_is_created_once(linker: Linker) -> None:
    """First sight: a local user (role user, no password, placeholder email) and its link;
    then the same user, whatever the token's name says now."""
    first = linker(_provider("Ab", name="Ann"))
    assert first is not None
    assert first.record.role == "user"
    assert first.record.email == provider_email(SETTINGS, ISSUER, "Ab")
    assert first.record.name == "Ann"
    again = linker(_provider("Ab", name="Someone else"))
    assert again is not None
    assert again.user_id == first.user_id
    (user,) = linker.rows(User.__table__)
    assert user["password_hash"] is None
    # A subject differing only in case is another provider user.
    other = linker(_provider("ab"))
    assert other is not None
    assert other.user_id != first.user_id
    assert len(linker.rows(ProviderIdentity.__table__)) == 2


def test_two_workers_creating_the_same_user_share_one(
    linker: Linker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker that lost the race (its lookup saw no link; its insert conflicts) uses
    the winner's link."""
    winner = linker(_provider("7"))
    assert winner is not None
    real = type(linker.linker)._linked
    calls = []

    def late(self: Any, principal: Principal) -> Any:
        calls.append(principal.subject)
        if len(calls) == 1:  # the lookup before the other worker committed
            return None if linker.app == "flask" else _none()
        return real(self, principal)

    monkeypatch.setattr(type(linker.linker), "_linked", late)
    loser = linker(_provider("7"))
    assert loser is not None
    assert loser.user_id == winner.user_id
    assert calls == ["7", "7"]
    assert len(linker.rows(User.__table__)) == 1


async def _none() -> None:
    return None


def test_a_conflict_without_a_link_is_not_hidden(linker: Linker) -> None:
    """Valid twin of the race: the placeholder email taken by another account and no link
    to find is a Conflict, not a user silently linked to that account."""
    linker.execute(
        sa.insert(User.__table__).values(
            email=provider_email(SETTINGS, ISSUER, "8"),
            name="Squatter",
            role="user",
            password_hash="x",
            created_at=sa.func.current_timestamp(),
            updated_at=sa.func.current_timestamp(),
            password_changed_at=sa.func.current_timestamp(),
        )
    )
    with pytest.raises(Conflict):
        linker(_provider("8"))
    assert linker.rows(ProviderIdentity.__table__) == []


def test_deleting_the_local_user_drops_its_link(linker: Linker) -> None:
    """The link goes with the user (foreign key cascade); the provider user seen again
    gets a new local user."""
    first = linker(_provider("9"))
    assert first is not None
    linker.execute(sa.delete(User.__table__).where(User.__table__.c.id == int(first.user_id)))
    assert linker.rows(ProviderIdentity.__table__) == []
    with capture_logs() as logs:
        again = linker(_provider("9"))
    assert again is not None
    # A new row (SQLite may give it the freed id) and a new link.
    assert [entry["event"] for entry in logs] == ["provider_user_created"]
    assert [row["user_id"] for row in linker.rows(ProviderIdentity.__table__)] == [
        int(again.user_id)
    ]


def test_an_api_key_acts_as_an_owner_that_exists(linker: Linker) -> None:
    """The owner's record (its current role) while it exists; None (a 401) once deleted or
    for an id no local user can have."""
    owner = linker(_provider("10"))
    assert owner is not None
    linker.execute(sa.update(User.__table__).values(role="admin"))
    key = Principal(owner.user_id, method="api_key", subject=owner.user_id)
    loaded = linker(key)
    assert loaded is not None
    assert (loaded.user_id, loaded.record.role) == (owner.user_id, "admin")
    linker.execute(sa.delete(User.__table__))
    assert linker(key) is None
    assert linker(Principal("x7", method="api_key")) is None


def test_the_apps_own_tokens_are_not_looked_up(linker: Linker) -> None:
    """A session token names its local user: no record is read (the table is empty)."""
    assert linker(Principal("42")) == LinkedUser("42")
