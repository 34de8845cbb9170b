"""The one SQLAlchemy ``MetaData`` that holds the tables backendkit itself owns.

The SQL token store and the API-key store define their tables on it, so an application
includes them in its own migrations with one line in Alembic's ``env.py``::

    from backendkit.auth.sql import auth_metadata

    target_metadata = [Base.metadata, auth_metadata]

The naming convention gives every constraint and index a stable name, so a migration can
drop or alter it by name on PostgreSQL, MySQL/MariaDB and SQLite alike.
"""

from __future__ import annotations

from sqlalchemy import MetaData, String
from sqlalchemy.dialects import mysql

auth_metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Tables owned by backendkit (``bk_`` prefixed), to include in an app's migrations."""


def exact_string(length: int) -> String:
    """A ``VARCHAR`` compared byte for byte on every database: MySQL/MariaDB's default
    collations ignore case, so ``invalidate("alice")`` would also reach ``"Alice"``
    (``utf8mb4_bin`` there)."""
    binary = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
    return String(length).with_variant(binary, "mysql", "mariadb")
