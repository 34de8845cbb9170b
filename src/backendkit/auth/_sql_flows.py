"""The SQL token store's operations as I/O-free flows, driven by a sync or an async shell.

Each flow is a generator: it yields one SQLAlchemy statement at a time, receives the
statement's result and finally returns the operation's answer. The store runs a flow inside
one transaction on a ``Connection`` or an ``AsyncConnection``; nothing here does I/O.

Rotation locks the session row before reading it: ``SELECT ... FOR UPDATE`` on PostgreSQL
and MySQL/MariaDB. SQLite has no row locks and the driver opens its transaction lazily, at
the first write; so there the flow first issues an ``UPDATE`` that changes nothing, which
takes the database's write lock (waiting up to the busy timeout) before the row is read.
Either way racing refreshes of one token are serialized: one rotates, the others see the
rotated row.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Insert,
    case,
    delete,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from backendkit.auth._sql_tables import (
    token_denied_table,
    token_sessions_table,
    token_user_cutoffs_table,
)
from backendkit.auth._store import NewSession, RotationRequest, RotationResult
from backendkit.auth._store_rules import (
    REVOKED_VALUES,
    SESSION_FIELDS,
    SessionState,
    check_reason,
    decide_rotation,
    new_session_values,
    rotation_values,
)

__all__ = [
    "Flow",
    "check_flow",
    "create_flow",
    "ping_flow",
    "purge_flow",
    "revoke_session_flow",
    "revoke_token_flow",
    "revoke_user_flow",
    "rotate_flow",
]

#: A flow yields statements, is sent each one's result, and returns its answer.
Flow = Generator[Executable, CursorResult[Any], Any]

_s, _d, _c = token_sessions_table.c, token_denied_table.c, token_user_cutoffs_table.c


def _session(sub: str, sid: str) -> ColumnElement[bool]:
    return (_s.sub == sub) & (_s.sid == sid)


def create_flow(session: NewSession) -> Flow:
    """Insert a new session row."""
    values = new_session_values(
        session.sub, session.sid, session.refresh_jti, session.now, session.expires_at
    )
    yield insert(token_sessions_table).values(**values)


def rotate_flow(dialect: str, request: RotationRequest) -> Flow:
    """Lock the session row, decide (see `decide_rotation`), write what was decided."""
    where = _session(request.sub, request.sid)
    if dialect == "sqlite":
        yield update(token_sessions_table).where(where).values(sid=_s.sid)
    row = (
        yield select(*(_s[name] for name in SESSION_FIELDS)).where(where).with_for_update()
    ).first()
    if row is None:
        return RotationResult("unknown")
    state = SessionState(**row._mapping)
    denied = (
        yield select(literal(1)).where(
            (_d.sub == request.sub) & (_d.jti == request.old_jti) & (_d.expires_at > request.now)
        )
    ).first() is not None
    result, write = decide_rotation(state, denied, request)
    if write == "rotate":
        yield update(token_sessions_table).where(where).values(**rotation_values(request))
    elif write == "revoke":
        yield update(token_sessions_table).where(where).values(**REVOKED_VALUES)
    return result


def check_flow(sub: str, jti: str | None, sid: str | None, iat: float | None, now: float) -> Flow:
    """One ``SELECT`` of what the check needs: the denial, the session or the cut-off."""
    denied = exists().where((_d.sub == sub) & (_d.jti == (jti or "")) & (_d.expires_at > now))
    if sid is not None:
        second = (
            select(_s.revoked).where(_session(sub, sid) & (_s.expires_at > now)).scalar_subquery()
        )
    else:
        second = (
            select(_c.not_before).where((_c.sub == sub) & (_c.expires_at > now)).scalar_subquery()
        )
    found = (yield select(denied.label("denied"), second.label("second"))).one()._mapping
    revoked = None if found["second"] is None or sid is None else bool(found["second"])
    not_before = None if sid is not None else found["second"]
    return check_reason(
        denied=jti is not None and bool(found["denied"]),
        sid=sid,
        session_revoked=revoked,
        not_before=not_before,
        iat=iat,
    )


def _greatest(dialect: str, table: Any, key: dict[str, Any], values: dict[str, float]) -> Insert:
    """Insert a row, or raise each of ``values`` on the existing one (never lower it)."""
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(**key, **values)
        new: Any = pg.excluded
        return pg.on_conflict_do_update(
            index_elements=list(key),
            set_={n: case((table.c[n] > new[n], table.c[n]), else_=new[n]) for n in values},
        )
    if dialect == "sqlite":
        lite = sqlite.insert(table).values(**key, **values)
        new = lite.excluded
        return lite.on_conflict_do_update(
            index_elements=list(key),
            set_={n: case((table.c[n] > new[n], table.c[n]), else_=new[n]) for n in values},
        )
    my = mysql.insert(table).values(**key, **values)
    new = my.inserted
    # Each assignment reads only its own column, so MySQL's left-to-right evaluation of
    # ON DUPLICATE KEY UPDATE cannot mix old and new values.
    return my.on_duplicate_key_update(
        {n: case((table.c[n] > new[n], table.c[n]), else_=new[n]) for n in values}
    )


def revoke_token_flow(dialect: str, sub: str, jti: str, expires_at: float, now: float) -> Flow:
    """Deny ``jti`` until ``expires_at`` (a later denial of the same id never shortens it)."""
    if expires_at > now:
        yield _greatest(
            dialect, token_denied_table, {"sub": sub, "jti": jti}, {"expires_at": expires_at}
        )


def revoke_session_flow(sub: str, sid: str) -> Flow:
    """Revoke one session."""
    yield update(token_sessions_table).where(_session(sub, sid)).values(**REVOKED_VALUES)


def revoke_user_flow(dialect: str, sub: str, now: float, until: float) -> Flow:
    """Revoke every session of ``sub`` and record the cut-off (never moved back)."""
    yield update(token_sessions_table).where(_s.sub == sub).values(**REVOKED_VALUES)
    values = {"not_before": now, "expires_at": until}
    yield _greatest(dialect, token_user_cutoffs_table, {"sub": sub}, values)


def purge_flow(now: float) -> Flow:
    """Delete expired rows and clear grace pairs past their window; return the row count."""
    count = 0
    for table in (token_sessions_table, token_denied_table, token_user_cutoffs_table):
        count += (yield delete(table).where(table.c.expires_at <= now)).rowcount
    cleared = update(token_sessions_table).where(_s.grace_until <= now)
    count += (yield cleared.values(grace_pair=None, grace_until=None)).rowcount
    return count


def ping_flow() -> Flow:
    """``SELECT 1``."""
    yield select(literal(1))
