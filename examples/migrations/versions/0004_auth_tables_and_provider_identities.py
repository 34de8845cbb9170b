"""backendkit's auth tables, provider identities, and users without a password.

- ``bk_*``: the tables of backendkit's SQL stores (refresh sessions and revocations for
  ``BACKENDKIT_TOKEN_STORE=sql``, API keys, password-reset tokens), created from
  ``backendkit.auth.sql.auth_metadata`` itself, so they are exactly what the stores expect
  and ``alembic check`` compares them with the same definitions (``env.py`` includes that
  metadata).
- ``provider_identities``: an identity provider's ``(issuer, subject)`` linked to a local
  user, deleted with the user; unique by ``key``, a SHA-256 of the pair (exact on every
  database, where a unique index on the two columns would not be on MySQL/MariaDB).
- ``users.password_hash`` becomes nullable: a provider's user has no password. The
  downgrade refuses to run while such users exist rather than invent passwords for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable, SetTableComment

from backendkit.auth.sql import auth_metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # DDL statements rather than create_all, so that "alembic upgrade --sql" prints them too.
    dialect = op.get_context().dialect
    for table in auth_metadata.sorted_tables:
        op.execute(CreateTable(table))
        # PostgreSQL has no inline table comment: it takes a COMMENT ON TABLE of its own.
        if table.comment and dialect.supports_comments and not dialect.inline_comments:
            op.execute(SetTableComment(table))
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            op.execute(CreateIndex(index))
    op.create_table(
        "provider_identities",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_provider_identities_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provider_identities"),
        sa.UniqueConstraint("key", name="uq_provider_identities_key"),
    )
    op.create_index("ix_provider_identities_user_id", "provider_identities", ["user_id"])
    # SQLite alters a column by copying the table (batch mode); MySQL/MariaDB restate the type.
    with op.batch_alter_table("users") as batch:
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=True)


def downgrade() -> None:
    passwordless = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM users WHERE password_hash IS NULL")
    )
    if passwordless.scalar_one():
        raise RuntimeError(
            "users without a password (identity provider users) exist: delete them, or give "
            "them passwords, before downgrading below 0004"
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("password_hash", existing_type=sa.String(255), nullable=False)
    # Its indexes go with it (MySQL refuses to drop the one its foreign key uses first).
    op.drop_table("provider_identities")
    for table in reversed(auth_metadata.sorted_tables):
        op.execute(DropTable(table))
