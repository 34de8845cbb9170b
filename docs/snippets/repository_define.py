"""Define a model and its repository, then list, filter and sort (SQLite, self-checking)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

# --8<-- [start:define]
from sqlalchemy import Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.errors import ValidationFailed
from backendkit.listing import PageParams
from backendkit.repository import (
    FilterField,
    Repository,
    TimestampMixin,
    UnitOfWork,
    build_engine,
    build_session_factory,
)


class Base(DeclarativeBase):
    pass


class User(TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (Index("ix_users_created_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="member")
    age: Mapped[int | None]


class UserRepository(Repository[User]):
    # What clients may filter by, and how. Anything else is a VALIDATION_ERROR.
    filter_fields: ClassVar[Mapping[str, Any]] = {
        "email": FilterField(User.email, "eq", "search"),
        "role": FilterField(User.role, "eq", "in"),
        "age": FilterField(User.age, "gte", "lte", "null"),
    }
    # What clients may sort by; the primary key is always added as the last tie-breaker.
    sort_fields: ClassVar[Mapping[str, Any]] = {
        "createdAt": User.created_at,
        "name": User.name,
        "age": User.age,
    }
    default_sort = "-createdAt"


# --8<-- [end:define]

folder = tempfile.TemporaryDirectory()
# --8<-- [start:use]
engine = build_engine(f"sqlite:///{Path(folder.name) / 'app.db'}")
Base.metadata.create_all(engine)
session_factory = build_session_factory(engine)

with UnitOfWork(session_factory) as uow:  # commits at the end of the block
    users = UserRepository(uow.session)
    users.create_many(
        [
            {"email": "ann@example.com", "name": "Ann", "role": "admin", "age": 34},
            {"email": "bob@example.com", "name": "Bob", "age": 27},
            {"email": "cy@example.com", "name": "Cy", "age": None},
        ]
    )

# A query string as an adapter hands it over: paging keys are skipped by the filter parser.
query = {"page": "1", "perPage": "2", "role[in]": "admin,member", "age[gte]": "18"}
with UnitOfWork(session_factory) as uow:
    users = UserRepository(uow.session)
    page = users.list_page(PageParams.model_validate(query), filters=query, sort="name")
    assert [u.name for u in page.items] == ["Ann", "Bob"]
    assert (page.total, page.has_next) == (2, False)

    found = users.list(filters={"email[search]": "EXAMPLE.com"}, sort="-age")
    assert [u.name for u in found] == ["Cy", "Ann", "Bob"]  # NULL sorts as the greatest

    try:
        users.list(filters={"password": "x"})
    except ValidationFailed as error:
        refused = error  # VALIDATION_ERROR, 400
    assert [d.field for d in refused.details] == ["password"]
# --8<-- [end:use]

# --8<-- [start:many]
from backendkit.errors import NotFound

with UnitOfWork(session_factory) as uow:
    users = UserRepository(uow.session)
    ann, bob = users.list(sort="name", limit=2)

    # The order asked, each row once; ids as text are read as the key's type.
    assert users.get_many([bob.id, str(ann.id), bob.id]) == [bob, ann]

    try:
        users.get_many([ann.id, 999])  # an id with no row is NOT_FOUND (404) by default
    except NotFound as error:
        missing = error
    assert [(d.field, d.message) for d in missing.details] == [("ids[1]", "User 999 not found")]

    # Opting in to a partial result: only the rows that exist.
    assert users.get_many([ann.id, 999], missing="omit") == [ann]
# --8<-- [end:many]
engine.dispose()
folder.cleanup()
