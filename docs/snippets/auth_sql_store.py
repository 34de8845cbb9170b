"""The SQL token store on the app's own engines (SQLite here; PostgreSQL and MariaDB alike)."""

import asyncio
import tempfile
from pathlib import Path

from backendkit.auth import JWTKey, TokenService
from backendkit.auth.sql import SQLTokenStore, auth_metadata
from backendkit.repository import build_async_engine, build_engine

database = Path(tempfile.mkdtemp()) / "app.db"
engine = build_engine(f"sqlite:///{database}")  # the engines your repositories use
async_engine = build_async_engine(f"sqlite+aiosqlite:///{database}")
auth_metadata.create_all(engine)  # here for the example; in production: your migrations

store = SQLTokenStore(engine, async_engine=async_engine)  # one store, both APIs
tokens = TokenService(JWTKey.hmac(b"a-32-byte-or-longer-secret-key!!"), store=store)

pair = tokens.issue_pair("user-1")  # login: one row in bk_token_sessions
newer = tokens.refresh(pair.refresh_token)  # rotation, under the row's lock
assert tokens.refresh(pair.refresh_token) == newer  # a parallel tab, within the grace window


async def logout() -> None:
    await tokens.arevoke(newer.refresh_token)  # the async API, on the async engine
    await async_engine.dispose()


asyncio.run(logout())
print("rows purged:", store.purge_expired())  # what a scheduled job runs
engine.dispose()
