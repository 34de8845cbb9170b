"""Contract: users.password_changed_at becomes NOT NULL.

The second half of the expand/contract change 0002 began. Run it only once every server
runs a release that writes the column: until then an older worker can still insert a row
without it. It backfills those rows once more, then sets NOT NULL, which on PostgreSQL scans
the table under an exclusive lock (short for this table; for a large one, add a
``CHECK (password_changed_at IS NOT NULL) NOT VALID`` constraint, ``VALIDATE`` it, and only
then set NOT NULL, which then skips the scan).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BACKFILL = "UPDATE users SET password_changed_at = created_at WHERE password_changed_at IS NULL"


def upgrade() -> None:
    op.execute(BACKFILL)
    # SQLite alters a column by copying the table (batch mode); MySQL/MariaDB restate the type.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("password_changed_at", existing_type=TIMESTAMP, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("password_changed_at", existing_type=TIMESTAMP, nullable=True)
