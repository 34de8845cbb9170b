"""The ``users`` and ``provider_identities`` tables (SQLAlchemy 2 declarative mapping)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.repository import TimestampMixin, utcnow

__all__ = ["Base", "ProviderIdentity", "User"]

# BIGINT on real databases; SQLite only auto-increments an INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer, "sqlite")
_TIMESTAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


class Base(DeclarativeBase):
    """The declarative base of the example's tables.

    The schema is managed by the migrations in ``examples/migrations`` (Alembic), which
    ``alembic check`` holds to these models. Constraints and indexes get names from one
    convention, the same on every database, so that a migration can name what it drops.
    """

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(TimestampMixin, Base):
    """An account. ``created_at``/``updated_at`` come from backendkit's ``TimestampMixin``."""

    __tablename__ = "users"
    # The default sort (newest first) and keyset paging walk this index.
    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="user", index=True)
    # None for a user of an identity provider (0004): it signs in there, never with a password.
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # When the password was last set (register, or a change through PUT); never on the
    # wire. Added with an expand/contract pair of migrations (0002, 0003).
    password_changed_at: Mapped[dt.datetime] = mapped_column(_TIMESTAMP, default=utcnow)


class ProviderIdentity(Base):
    """An identity provider's user linked to a local one (added by migration 0004).

    ``(issuer, subject)`` names the provider's user, never its email or bare ``sub``. It
    is found by ``key``, a SHA-256 of the pair (``provider_identity_key``): unique, so two
    workers seeing the same new user cannot link it twice, and exact on MySQL/MariaDB,
    whose default collation would take subjects ``"Ab"`` and ``"ab"`` (or ``"ab "``) for
    one. ``issuer`` and ``subject`` are kept as the provider wrote them. Deleting the local
    user deletes its links.
    """

    __tablename__ = "provider_identities"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(_TIMESTAMP, default=utcnow)
