"""Expand: users.password_changed_at, nullable, backfilled.

The first half of an expand/contract change (see docs/deployment.md): a nullable column
that the running release ignores, so this migration can run before the release that writes
it, with no downtime. Rows that exist now get the only date known for them: the account's
creation. The release that ships beside this migration writes the column (on register, and
on every password change); 0003, once no older release runs, makes it NOT NULL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

#: Rows an older release wrote get the account's creation time. One statement is fine for
#: the example's table; a large table is backfilled in batches of primary keys instead,
#: outside the migration, so that no transaction holds many row locks for long.
BACKFILL = "UPDATE users SET password_changed_at = created_at WHERE password_changed_at IS NULL"


def upgrade() -> None:
    # Adding a nullable column without a default is a catalogue change on PostgreSQL and an
    # instant ALTER on MariaDB 10.3+: no table rewrite, no long lock.
    op.add_column("users", sa.Column("password_changed_at", TIMESTAMP, nullable=True))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("password_changed_at")
