"""Translate SQLAlchemy and driver errors into backendkit errors at the boundary.

* ``IntegrityError`` -> [`Conflict`][backendkit.errors.Conflict] (409), naming the field when
  the database says which (unique, foreign-key, not-null and check violations).
* ``StaleDataError`` (optimistic locking) -> ``Conflict``.
* A value the database refuses (too long, out of range, unreadable as a number or date, a
  NUL character in PostgreSQL text) -> [`BadRequest`][backendkit.errors.BadRequest] (400),
  by SQLSTATE or MySQL error number, or for ``DataError`` without a code; other data
  exceptions (division by zero) are our bugs and stay ``InternalError``.
* Connection problems, timeouts and other ``OperationalError`` ->
  [`BackendUnavailable`][backendkit.errors.BackendUnavailable] (503).
* Any other database error -> [`InternalError`][backendkit.errors.InternalError] (500).

Client-facing messages never carry SQL, parameters or values; the logs get the error class
and the database's error code only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from sqlalchemy import Table, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.exc import StaleDataError

from backendkit._db_errors import BAD_INPUT_MESSAGE, is_bad_input, log_database_error
from backendkit.errors import (
    AppError,
    BackendUnavailable,
    BadRequest,
    Conflict,
    ErrorDetail,
    InternalError,
)
from backendkit.repository._columns import camel

__all__ = ["translate_errors", "translate_exception"]

_log = structlog.get_logger("backendkit.repository")

_PG_KEY = re.compile(r"Key \((?P<cols>[^)]+)\)=")
_MYSQL_DUP_KEY = re.compile(r"for key '(?:[^'.]+\.)?(?P<key>[^']+)'")
_MYSQL_COLUMN = re.compile(r"(?:Column|Field) '(?P<col>[^']+)'")
_MYSQL_FK = re.compile(r"CONSTRAINT `(?P<name>[^`]+)` FOREIGN KEY \(`(?P<col>[^`]+)`")
_SQLITE_COLS = re.compile(r"constraint failed: (?P<cols>.+)$")

_MESSAGES = {
    "unique": ("already exists", "A record with this {field} already exists"),
    "foreign_key": (
        "refers to a record that does not exist or is still in use",
        "The {field} refers to a record that does not exist or is still in use",
    ),
    "not_null": ("is required", "The {field} is required"),
    "check": ("is not allowed", "The {field} is not allowed"),
}
_GENERIC = {
    "unique": "A record with these values already exists",
    "foreign_key": "The record refers to, or is referred to by, another record",
    "not_null": "A required value is missing",
    "check": "A value is not allowed",
    "other": Conflict.default_message,
}
_SQLSTATE_KIND = {"23505": "unique", "23503": "foreign_key", "23502": "not_null", "23514": "check"}
_MYSQL_KIND = {
    1062: "unique",
    1451: "foreign_key",
    1452: "foreign_key",
    1048: "not_null",
    1364: "not_null",
    4025: "check",
    3819: "check",
}


def _sources(orig: Any) -> list[Any]:
    # asyncpg errors arrive wrapped by SQLAlchemy's adapter; the driver error is the cause.
    found = [orig]
    cause = getattr(orig, "__cause__", None)
    if cause is not None:
        found.append(cause)
    return found


def _attr(sources: list[Any], *names: str) -> Any:
    for source in sources:
        for name in names:
            value = getattr(source, name, None)
            if value:
                return value
        diag = getattr(source, "diag", None)
        for name in names:
            value = getattr(diag, name, None) if diag is not None else None
            if value:
                return value
    return None


def _diagnose(orig: Any) -> tuple[str, list[str], str | None]:
    """Return (kind, column names, constraint name) from a driver's integrity error."""
    sources = _sources(orig)
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):  # MySQL/MariaDB: (errno, message)
        errno, message = args[0], str(args[1])
        kind = _MYSQL_KIND.get(errno, "other")
        if kind == "unique" and (m := _MYSQL_DUP_KEY.search(message)):
            return kind, [], m.group("key")
        if kind == "foreign_key" and (m := _MYSQL_FK.search(message)):
            return kind, [m.group("col")], m.group("name")
        if kind == "not_null" and (m := _MYSQL_COLUMN.search(message)):
            return kind, [m.group("col")], None
        return kind, [], None
    sqlstate = _attr(sources, "sqlstate", "pgcode")
    if isinstance(sqlstate, str) and sqlstate.startswith("23"):
        kind = _SQLSTATE_KIND.get(sqlstate, "other")
        constraint = _attr(sources, "constraint_name")
        columns: list[str] = []
        detail = _attr(sources, "detail", "message_detail")
        match = _PG_KEY.search(detail) if isinstance(detail, str) else None
        if match:
            columns = [c.strip().strip('"') for c in match.group("cols").split(",")]
        elif kind == "not_null":
            column = _attr(sources, "column_name")
            columns = [column] if column else []
        return kind, columns, constraint
    message = str(orig)  # SQLite: "UNIQUE constraint failed: users.email"
    lowered = message.lower()
    kind = next(
        (
            k
            for k, word in (
                ("unique", "unique"),
                ("foreign_key", "foreign key"),
                ("not_null", "not null"),
                ("check", "check"),
            )
            if word in lowered
        ),
        "other",
    )
    m = _SQLITE_COLS.search(message)
    if m and kind in ("unique", "not_null"):
        return kind, [c.strip().rsplit(".", 1)[-1] for c in m.group("cols").split(",")], None
    if m and kind == "check":
        return kind, [], m.group("cols").strip()
    return kind, [], None


def _constraint_columns(table: Table | None, name: str | None) -> list[str]:
    if table is None or not name:
        return []
    items: list[Any] = [*table.constraints, *table.indexes]
    for item in items:
        if item.name == name:
            return [column.name for column in item.columns]
    # MariaDB names a single-column UNIQUE key after its column.
    if name in table.c:
        return [name]
    return []


def _field_names(model: type[Any] | None, columns: list[str]) -> list[str]:
    names: list[str] = []
    mapper: Mapper[Any] | None = inspect(model, raiseerr=False) if model is not None else None
    for column in columns:
        key = column
        if mapper is not None and column in mapper.local_table.c:
            prop = mapper.get_property_by_column(mapper.local_table.c[column])
            key = prop.key
        names.append(camel(key))
    return names


def _is_integrity(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.IntegrityError):
        return True
    # PyMySQL reports some constraint failures (missing value, CHECK) as OperationalError.
    args: tuple[Any, ...] = tuple(getattr(getattr(exc, "orig", None), "args", ()))
    return isinstance(exc, sa_exc.DBAPIError) and bool(args) and args[0] in _MYSQL_KIND


def conflict_from(exc: sa_exc.DBAPIError, model: type[Any] | None = None) -> Conflict:
    """Build the client-safe ``Conflict`` for an integrity error."""
    kind, columns, constraint = _diagnose(exc.orig)
    table = None
    if model is not None:
        mapper = inspect(model, raiseerr=False)
        local = getattr(mapper, "local_table", None)
        table = local if isinstance(local, Table) else None
    if not columns:
        columns = _constraint_columns(table, constraint)
    fields = _field_names(model, columns)
    if kind in _MESSAGES and fields:
        detail, sentence = _MESSAGES[kind]
        label = " and ".join(fields)
        return Conflict(
            sentence.format(field=label),
            details=[ErrorDetail(field, detail) for field in fields],
        )
    return Conflict(_GENERIC.get(kind, _GENERIC["other"]))


# PostgreSQL SQLSTATE classes meaning "not now" rather than "wrong query": connection
# exceptions, transaction rollback (deadlock, serialization), insufficient resources,
# operator intervention (statement timeout, shutdown), system errors.
_PG_UNAVAILABLE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# MySQL/MariaDB server errors of the same kind (2xxx client errors are all connection ones):
# too many connections, shutdown, lock wait timeout, deadlock, statement time limits, killed.
_MYSQL_UNAVAILABLE = frozenset({1040, 1053, 1205, 1213, 1317, 1927, 1969, 3024})
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk", "i/o")


def _unavailable(exc: BaseException) -> bool:
    """Whether the error means the database is unreachable or overloaded (retry later)."""
    if isinstance(exc, (sa_exc.DisconnectionError, sa_exc.TimeoutError, sa_exc.InterfaceError)):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    if args and isinstance(args[0], int):  # MySQL/MariaDB error number
        return args[0] >= 2000 or args[0] in _MYSQL_UNAVAILABLE
    # asyncpg errors arrive as a plain DBAPIError: its SQLSTATE decides, as for psycopg.
    sqlstate = _attr(_sources(orig), "sqlstate", "pgcode")
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        return sqlstate[:2] in _PG_UNAVAILABLE_CLASSES
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    module = type(orig).__module__
    if module.startswith(("sqlite3", "aiosqlite")) or "sqlite" in module:
        message = str(orig).lower()
        return any(word in message for word in _SQLITE_UNAVAILABLE)
    # No code to go by (e.g. a refused connection surfaced as OSError): not the query's fault.
    return True


def translate_exception(exc: BaseException, model: type[Any] | None = None) -> AppError | None:
    """Map a SQLAlchemy/driver exception to an ``AppError`` (None: not a database error)."""
    if isinstance(exc, sa_exc.DBAPIError) and _is_integrity(exc):
        error: AppError = conflict_from(exc, model)
    elif isinstance(exc, StaleDataError):
        error = Conflict("The record was changed by someone else; reload it and try again")
    elif isinstance(exc, sa_exc.DBAPIError) and is_bad_input(exc):
        error = BadRequest(BAD_INPUT_MESSAGE)
    elif _unavailable(exc) or isinstance(exc, OSError):
        # A bare OSError here comes from a driver connecting (asyncpg raises it unwrapped).
        error = BackendUnavailable("The database is temporarily unavailable")
    elif isinstance(exc, sa_exc.SQLAlchemyError):
        error = InternalError()
    else:
        return None
    log_database_error(_log, exc, error.code)
    return error


@contextmanager
def translate_errors(model: type[Any] | None = None) -> Iterator[None]:
    """Re-raise database errors inside the block as backendkit errors (``from`` the original).

    A plain context manager, so it also wraps ``await`` expressions in async code.
    """
    try:
        yield
    except AppError:
        raise
    except Exception as exc:
        mapped = translate_exception(exc, model)
        if mapped is None:
            raise
        raise mapped from exc
