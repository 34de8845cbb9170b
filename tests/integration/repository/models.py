"""Models and repositories shared by the repository integration suite."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from backendkit.repository import (
    AsyncRepository,
    FilterField,
    Repository,
    SoftDeleteMixin,
    SortField,
    TimestampMixin,
    VersionMixin,
)


class Base(DeclarativeBase):
    """A metadata of its own, so these tables never mix with other suites'."""

    metadata = MetaData()


class Item(Base):
    __tablename__ = "bk_items"
    __table_args__ = (
        Index("ix_bk_items_score_id", "score", "id"),
        Index("ix_bk_items_category_name_id", "category", "name", "id"),
        CheckConstraint("price >= 0", name="ck_bk_items_price"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(20))
    score: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    created: Mapped[dt.datetime] = mapped_column(
        DateTime, default=lambda: dt.datetime(2024, 1, 1, 12, 0, 0)
    )
    active: Mapped[bool] = mapped_column(default=True)


class Parent(Base):
    __tablename__ = "bk_parents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    children: Mapped[list[Child]] = relationship(back_populates="parent", order_by="Child.id")


class Child(Base):
    __tablename__ = "bk_children"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("bk_parents.id"))
    name: Mapped[str] = mapped_column(String(40))
    parent: Mapped[Parent] = relationship(back_populates="children")


class Note(TimestampMixin, SoftDeleteMixin, VersionMixin, Base):
    __tablename__ = "bk_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[str] = mapped_column(String(200), default="")


class Membership(Base):
    """A composite primary key."""

    __tablename__ = "bk_memberships"

    org: Mapped[str] = mapped_column(String(10), primary_key=True)
    user: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(10))


#: Every table, children first (delete order).
TABLES = [Child.__table__, Parent.__table__, Item.__table__, Note.__table__, Membership.__table__]


class ItemConfig:
    filter_fields: ClassVar[Mapping[str, Any]] = {
        "name": FilterField(Item.name, "eq", "in", "search"),
        "category": FilterField(Item.category, "eq", "in", "null", "ne"),
        "score": FilterField(Item.score, "eq", "gt", "gte", "lt", "lte", "null"),
        "price": FilterField(Item.price, "gte", "lte"),
        "active": FilterField(Item.active, "eq"),
        "created": FilterField(Item.created, "gte", "lt"),
    }
    sort_fields: ClassVar[Mapping[str, Any]] = {
        "name": Item.name,
        "category": Item.category,
        "score": Item.score,
        "price": Item.price,
        "created": Item.created,
        "sku": SortField(Item.sku),
        "active": Item.active,
    }


class ItemRepo(ItemConfig, Repository[Item]):
    pass


class AsyncItemRepo(ItemConfig, AsyncRepository[Item]):
    pass


class ParentRepo(Repository[Parent]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"name": Parent.name}


class AsyncParentRepo(AsyncRepository[Parent]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"name": Parent.name}


class NoteRepo(Repository[Note]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"title": Note.title}


class AsyncNoteRepo(AsyncRepository[Note]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"title": Note.title}


class MembershipRepo(Repository[Membership]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"role": Membership.role}


class AsyncMembershipRepo(AsyncRepository[Membership]):
    sort_fields: ClassVar[Mapping[str, Any]] = {"role": Membership.role}


ITEMS = (ItemRepo, AsyncItemRepo)
PARENTS = (ParentRepo, AsyncParentRepo)
NOTES = (NoteRepo, AsyncNoteRepo)
MEMBERSHIPS = (MembershipRepo, AsyncMembershipRepo)
