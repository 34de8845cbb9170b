"""Units of work, conflicts, upserts and optimistic locking (SQLite, self-checking)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.errors import Conflict
from backendkit.repository import (
    Repository,
    SoftDeleteMixin,
    UnitOfWork,
    VersionMixin,
    build_engine,
    build_session_factory,
)


class Base(DeclarativeBase):
    pass


class Account(SoftDeleteMixin, VersionMixin, Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    plan: Mapped[str] = mapped_column(String(20), default="free")


class AccountRepository(Repository[Account]):
    pass


folder = tempfile.TemporaryDirectory()
engine = build_engine(f"sqlite:///{Path(folder.name) / 'tx.db'}")
Base.metadata.create_all(engine)
factory = build_session_factory(engine)

# --8<-- [start:uow]
try:
    with UnitOfWork(factory) as uow:
        accounts = AccountRepository(uow.session)
        accounts.create({"email": "ann@example.com"})
        accounts.create({"email": "ann@example.com"})  # unique violation
except Conflict as error:
    duplicate = error  # CONFLICT, 409
assert duplicate.message == "A record with this email already exists"
assert [d.field for d in duplicate.details] == ["email"]

with UnitOfWork(factory) as uow:  # the first insert was rolled back with the second
    assert uow.session.scalar(select(func.count()).select_from(Account)) == 0
# --8<-- [end:uow]

# --8<-- [start:upsert]
with UnitOfWork(factory) as uow:
    accounts = AccountRepository(uow.session)
    first = accounts.upsert({"email": "bob@example.com", "plan": "free"}, conflict=["email"])
    again = accounts.upsert({"email": "bob@example.com", "plan": "pro"}, conflict=["email"])
    assert again.id == first.id
    assert (again.plan, again.version) == ("pro", 2)  # one row, updated in place
# --8<-- [end:upsert]

# --8<-- [start:locking]
with UnitOfWork(factory) as uow:
    account = AccountRepository(uow.session).get(first.id)
    seen_version = account.version  # what the client read (e.g. from an ETag)

with UnitOfWork(factory) as uow:  # someone else changes the row meanwhile
    AccountRepository(uow.session).update(first.id, {"plan": "team"})

try:
    with UnitOfWork(factory) as uow:
        AccountRepository(uow.session).update(first.id, {"plan": "free", "version": seen_version})
except Conflict as error:
    stale = error
assert [d.field for d in stale.details] == ["version"]
# --8<-- [end:locking]

# --8<-- [start:soft]
with UnitOfWork(factory) as uow:
    accounts = AccountRepository(uow.session)
    accounts.delete(first.id)  # sets deleted_at
    assert accounts.get_or_none(first.id) is None
    assert accounts.get(first.id, include_deleted=True).deleted_at is not None
# --8<-- [end:soft]
engine.dispose()
folder.cleanup()
