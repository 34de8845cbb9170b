"""Engines and session factories with production defaults (SQLite here, self-checking)."""

from __future__ import annotations

import tempfile
from pathlib import Path

folder = tempfile.TemporaryDirectory()
DATABASE_URL = f"sqlite:///{Path(folder.name) / 'app.db'}"

# --8<-- [start:engine]
from backendkit.repository import build_engine, build_session_factory

engine = build_engine(
    DATABASE_URL,  # e.g. settings.database_url
    pool_size=5,  # connections kept open
    max_overflow=10,  # extra ones under load
    pool_timeout=10.0,  # seconds to wait for a free connection
    pool_recycle=1800,  # replace connections older than this
    statement_timeout=30.0,  # PostgreSQL statement_timeout, MariaDB max_statement_time
)
session_factory = build_session_factory(engine)  # expire_on_commit=False
# --8<-- [end:engine]

with engine.connect() as conn:  # what every new SQLite connection got
    assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
assert session_factory.kw["expire_on_commit"] is False
engine.dispose()
folder.cleanup()
