"""The ``users`` table (SQLAlchemy 2 declarative mapping)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backendkit.repository import TimestampMixin

__all__ = ["Base", "User"]


class Base(DeclarativeBase):
    """The declarative base of the example's tables."""


class User(TimestampMixin, Base):
    """An account. ``created_at``/``updated_at`` come from backendkit's ``TimestampMixin``."""

    __tablename__ = "users"
    # The default sort (newest first) and keyset paging walk this index.
    __table_args__ = (Index("ix_users_created_at_id", "created_at", "id"),)

    # BIGINT on real databases; SQLite only auto-increments an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="user", index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
