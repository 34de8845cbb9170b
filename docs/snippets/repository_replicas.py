"""Read replicas: routing between a primary and a read engine (SQLite, self-checking).

Two SQLite files stand in for primary and replica. Nothing copies rows between them, so
each read below shows which database answered: this checks the routing, not replication.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import String, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.cache import Cache


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)


folder = tempfile.TemporaryDirectory()
PRIMARY_URL = f"sqlite:///{Path(folder.name) / 'primary.db'}"
REPLICA_URL = f"sqlite:///{Path(folder.name) / 'replica.db'}"

# --8<-- [start:factory]
from backendkit.repository import (
    Repository,
    UnitOfWork,
    build_engine,
    build_session_factory,
    read_your_writes,
    replica_safe,
)


class UserRepository(Repository[User]):
    pass


primary = build_engine(PRIMARY_URL)  # e.g. settings.database_url
replica = build_engine(REPLICA_URL, connect_timeout=2)  # a replica that hangs fails fast
sessions = build_session_factory(primary, read_engine=replica, replica_retry_interval=5)
# --8<-- [end:factory]

for engine, email in ((primary, "primary@example.com"), (replica, "replica@example.com")):
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(User).values(id=1, email=email))


def emails() -> list[str]:
    with sessions() as session:
        return [user.email for user in UserRepository(session).list()]


# --8<-- [start:routing]
with sessions() as session:  # a plain read: the replica
    assert UserRepository(session).get(1).email == "replica@example.com"

with UnitOfWork(sessions) as uow:  # a unit of work: the primary, reads included
    users = UserRepository(uow.session)
    assert users.get(1).email == "primary@example.com"
    users.create({"id": 2, "email": "bob@example.com"})

with read_your_writes():  # one request, or one job
    assert emails() == ["replica@example.com"]  # nothing written yet: the replica
    with UnitOfWork(sessions) as uow:
        UserRepository(uow.session).create({"id": 3, "email": "cy@example.com"})
    # This block wrote, so its reads go to the primary: it sees its own write.
    assert emails() == ["primary@example.com", "bob@example.com", "cy@example.com"]
# --8<-- [end:routing]

# --8<-- [start:cache]
cache = Cache("memory://")


@cache.cached(ttl=60)  # never stores what may predate a write of the same scope
def user_emails() -> list[str]:
    return emails()


assert replica_safe()  # this scope has not both read a replica and written


# --8<-- [end:cache]

with read_your_writes():
    assert user_emails() == ["replica@example.com"]  # read from the replica: stored
assert user_emails.call_detailed().outcome.name == "HIT"
cache.close()
primary.dispose()
replica.dispose()
folder.cleanup()
