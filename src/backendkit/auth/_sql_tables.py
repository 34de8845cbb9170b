"""The SQL token store's tables, on [`auth_metadata`][backendkit.auth.sql.auth_metadata].

One row per session (refresh family), one per denied token id, one per user cut-off. Times
are seconds since the epoch as double-precision floats (the service clock's own unit), so
a fake clock in tests and the system clock in production store the same thing. Every
table has an index on ``expires_at`` for the clean-up; the sessions table has one on
``grace_until`` to drop stale grace pairs.

``sub`` is stored as given (at most 256 characters, the token service's limit): operators
can see and end the sessions of one user with plain SQL. Ids are compared exactly on every
database (``utf8mb4_bin`` on MySQL/MariaDB, whose default collations ignore case).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Double, Index, String, Table, Text, false
from sqlalchemy.dialects import mysql

from backendkit.auth._sql_metadata import auth_metadata

__all__ = ["token_denied_table", "token_sessions_table", "token_user_cutoffs_table"]


def _exact(length: int) -> String:
    """Text compared byte for byte: MySQL/MariaDB's default collations ignore case, so
    ``revoke_user("alice")`` would also reach a user ``"Alice"``."""
    binary = mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
    return String(length).with_variant(binary, "mysql", "mariadb")


_SUB = _exact(256)
_ID = _exact(64)

token_sessions_table = Table(
    "bk_token_sessions",
    auth_metadata,
    Column("sub", _SUB, primary_key=True),
    Column("sid", _ID, primary_key=True),
    Column("current_jti", _ID, nullable=False),
    Column("previous_jti", _ID, nullable=True),
    Column("rotated_at", Double(), nullable=False),
    Column("revoked", Boolean(), nullable=False, server_default=false()),
    # The pair handed out at the last rotation, replayed within the grace window; cleared
    # by the clean-up once grace_until has passed (it holds a live refresh token).
    Column("grace_pair", Text(), nullable=True),
    Column("grace_until", Double(), nullable=True),
    Column("expires_at", Double(), nullable=False),
    Index(None, "expires_at"),
    Index(None, "grace_until"),
    comment="backendkit: refresh-token families (sessions)",
)
"""One row per session: its current and previous refresh ``jti`` and its state."""

token_denied_table = Table(
    "bk_token_denied",
    auth_metadata,
    Column("sub", _SUB, primary_key=True),
    Column("jti", _ID, primary_key=True),
    Column("expires_at", Double(), nullable=False),
    Index(None, "expires_at"),
    comment="backendkit: revoked token ids, kept until the token would expire",
)
"""Token ids revoked one by one (logout), until the token would have expired."""

token_user_cutoffs_table = Table(
    "bk_token_user_cutoffs",
    auth_metadata,
    Column("sub", _SUB, primary_key=True),
    Column("not_before", Double(), nullable=False),
    Column("expires_at", Double(), nullable=False),
    Index(None, "expires_at"),
    comment="backendkit: per-user 'revoke everything issued before' times",
)
"""``revoke_user``'s cut-off: tokens of ``sub`` issued before ``not_before`` are refused."""
