"""Optional model mixins: timestamps, soft delete and optimistic locking.

Mix them into a declarative model; the repositories notice them:

* [`TimestampMixin`][backendkit.repository.TimestampMixin]: ``created_at`` and
  ``updated_at`` (UTC, microseconds kept on MySQL/MariaDB too), set by Python on insert and
  update, and refreshed by ``upsert``.
* [`SoftDeleteMixin`][backendkit.repository.SoftDeleteMixin]: ``deleted_at``; ``delete()``
  sets it, and every read leaves such rows out unless ``include_deleted=True``.
* [`VersionMixin`][backendkit.repository.VersionMixin]: a ``version`` column SQLAlchemy
  checks on every UPDATE (``version_id_col``); a stale update is a ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

__all__ = ["SoftDeleteMixin", "TimestampMixin", "VersionMixin", "utcnow"]

# DATETIME on MySQL/MariaDB drops fractions of a second unless told to keep them.
_TIMESTAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def utcnow() -> dt.datetime:
    """The current time in UTC (the default of the timestamp columns)."""
    return dt.datetime.now(dt.timezone.utc)


class TimestampMixin:
    """Adds ``created_at`` and ``updated_at`` (timezone-aware UTC where the database keeps it)."""

    created_at: Mapped[dt.datetime] = mapped_column(_TIMESTAMP, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        _TIMESTAMP, default=utcnow, onupdate=utcnow, nullable=False
    )


class SoftDeleteMixin:
    """Adds ``deleted_at``: set by ``delete()``, and such rows are hidden from reads."""

    deleted_at: Mapped[dt.datetime | None] = mapped_column(
        _TIMESTAMP, default=None, nullable=True, index=True
    )


class VersionMixin:
    """Adds ``version``, incremented on every UPDATE and checked in its WHERE clause.

    If the model also sets ``__mapper_args__``, include
    ``"version_id_col": cls.__table__.c.version`` there yourself.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - declared_attr takes the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]
