"""Which database errors are the client's bad input (400), decided without any ORM imported.

A value the database refuses (text too long for its column, a number out of range, a date
it cannot read, a NUL character in PostgreSQL text) is the client's mistake: ``400
BAD_REQUEST``, not a ``500``. Any other error of the same family (division by zero, an
invalid parameter the code built) is a bug of ours and stays a ``500``.

The decision reads only what every driver and wrapper already carries, so the SQLAlchemy
repository and the Django adapter share it:

* a MySQL/MariaDB error number (``args[0]`` of a DB-API error) or else a PostgreSQL
  SQLSTATE (``sqlstate`` in psycopg 3 and asyncpg, ``pgcode`` in psycopg2,
  ``diag.sqlstate``), on the exception, on ``.orig`` (SQLAlchemy) or down the
  ``__cause__`` chain (Django and SQLAlchemy's asyncpg adapter re-raise the driver's error
  ``from`` it);
* without any code, the class: a DB-API ``DataError`` (``sqlalchemy.exc.DataError``,
  ``django.db.DataError``, the drivers' own), which psycopg raises on the client, before
  the server sees the statement, for a NUL character in text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from backendkit.errors import BadRequest
from backendkit.logging import get_logger

__all__ = [
    "BAD_INPUT_MESSAGE",
    "MYSQL_BAD_INPUT_ERRNOS",
    "POSTGRES_BAD_INPUT_SQLSTATES",
    "bad_input_error",
    "database_error_code",
    "is_bad_input",
    "log_database_error",
]

#: PostgreSQL SQLSTATEs caused by a value: string data right truncation (22001), numeric
#: value out of range (22003), invalid datetime format (22007), datetime field overflow
#: (22008), character not in repertoire (22021: NUL in text), invalid text representation
#: (22P02), untranslatable character (22P05).
POSTGRES_BAD_INPUT_SQLSTATES: frozenset[str] = frozenset(
    {"22001", "22003", "22007", "22008", "22021", "22P02", "22P05"}
)
#: MySQL/MariaDB error numbers caused by a value: out of range (1264), incorrect datetime
#: or other value (1292), incorrect string value (1366), data too long (1406).
MYSQL_BAD_INPUT_ERRNOS: frozenset[int] = frozenset({1264, 1292, 1366, 1406})
#: The client-facing message: no column, value, SQL or driver text.
BAD_INPUT_MESSAGE = "A value in the request is out of range, too long or malformed"

_log = get_logger("backendkit.database")
_MAX_CHAIN = 8


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it wraps: SQLAlchemy's ``orig``, then the ``__cause__`` chain."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (getattr(current, "orig", None), current.__cause__):
            if isinstance(inner, BaseException):
                pending.append(inner)


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _sqlstate(exc: BaseException) -> str | None:
    for source in (exc, getattr(exc, "diag", None)):
        for name in ("sqlstate", "pgcode"):
            value = getattr(source, name, None) if source is not None else None
            if isinstance(value, str) and len(value) == 5:
                return value
    return None


def _mysql_errno(exc: BaseException) -> int | None:
    # PEP 249 errors of PyMySQL/asyncmy/mysqlclient carry (errno, message); Django copies the
    # driver's args onto its own wrapper. An OSError's errno is no database's.
    if isinstance(exc, OSError) or "DatabaseError" not in _class_names(exc):
        return None
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def database_error_code(exc: BaseException) -> str | int | None:
    """The PostgreSQL SQLSTATE or MySQL error number of ``exc`` or what it wraps, if any."""
    for current in _chain(exc):
        # The error number first: PyMySQL also sets a SQLSTATE, which MySQL and MariaDB
        # fill differently for the same error (1366 is HY000 on one, 22007 on the other).
        errno = _mysql_errno(current)
        if errno is not None:
            return errno
        code = _sqlstate(current)
        if code is not None:
            return code
    return None


def _is_data_error(exc: BaseException) -> bool:
    # A PEP 249 DataError (it derives from DatabaseError), whoever raised it.
    names = _class_names(exc)
    return "DataError" in names and "DatabaseError" in names


def is_bad_input(exc: BaseException) -> bool:
    """Whether a database error was caused by a value the client sent.

    A code decides when there is one: PostgreSQL SQLSTATEs in
    ``POSTGRES_BAD_INPUT_SQLSTATES``, MySQL/MariaDB errors in ``MYSQL_BAD_INPUT_ERRNOS``;
    any other code (``22012``, division by zero) is not. Without a code, a ``DataError``
    is bad input (psycopg refuses a NUL character on the client and gives no SQLSTATE).

    Example:
        >>> class DatabaseError(Exception): ...
        >>> class DataError(DatabaseError): ...
        >>> class Driver(DataError):
        ...     def __init__(self, sqlstate: str) -> None:
        ...         self.sqlstate = sqlstate
        >>> is_bad_input(Driver("22021")), is_bad_input(Driver("22012"))
        (True, False)
        >>> is_bad_input(DataError("text fields cannot contain NUL")), is_bad_input(KeyError())
        (True, False)
    """
    code = database_error_code(exc)
    if isinstance(code, str):
        return code in POSTGRES_BAD_INPUT_SQLSTATES
    if isinstance(code, int):
        return code in MYSQL_BAD_INPUT_ERRNOS
    return any(_is_data_error(current) for current in _chain(exc))


def bad_input_error(exc: BaseException) -> BadRequest | None:
    """The ``400 BAD_REQUEST`` for a database error the client's input caused, else None.

    For adapters that meet database errors outside the repository (Django's ORM). The
    error class and code are logged as ``database_error``; the client sees a generic
    message.
    """
    if not is_bad_input(exc):
        return None
    log_database_error(_log, exc, BadRequest.code)
    return BadRequest(BAD_INPUT_MESSAGE)


def log_database_error(log: Any, exc: BaseException, mapped_to: str) -> None:
    """Log one mapped database error as ``database_error`` on ``log``: the error classes,
    the SQLSTATE or errno and the code the client got; never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc.__cause__
    log.warning(
        "database_error",
        error=type(exc).__name__,
        driver_error=type(orig).__name__ if orig is not None else None,
        code=database_error_code(exc),
        mapped_to=mapped_to,
    )
