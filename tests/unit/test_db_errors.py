"""Database errors caused by a client's value are 400 BAD_REQUEST; others of their kind 500.

The exceptions are the drivers' own classes, built as the drivers build them and wrapped as
SQLAlchemy and Django wrap them (``orig``, ``__cause__``, copied ``args``), so the decision
is checked on what really arrives; the integration suite provokes the real failures.
"""

from __future__ import annotations

import asyncmy.errors
import asyncpg.exceptions
import psycopg
import psycopg.errors
import pymysql.err
import pytest
from django.db import utils as django_db
from sqlalchemy import exc as sa_exc

from backendkit._db_errors import (
    BAD_INPUT_MESSAGE,
    MYSQL_BAD_INPUT_ERRNOS,
    POSTGRES_BAD_INPUT_SQLSTATES,
    bad_input_error,
    database_error_code,
    is_bad_input,
)
from backendkit.errors import BackendUnavailable, BadRequest, Conflict, InternalError
from backendkit.repository import translate_exception
from backendkit.testing import capture_logs

PG_BAD = ["22001", "22003", "22007", "22008", "22021", "22P02", "22P05"]
MYSQL_BAD = [1264, 1292, 1366, 1406]
# Data exceptions that are our own bugs, not the client's: division by zero, invalid
# parameter value, invalid argument for a function, array subscript error.
PG_OURS = ["22012", "22023", "22P03", "2202E"]
# MySQL/MariaDB: division by zero, truncated wrong value for a function, syntax error.
MYSQL_OURS = [1365, 1411, 1064]


def _pg(sqlstate: str) -> psycopg.Error:
    """The psycopg 3 exception the server's SQLSTATE maps to."""
    return psycopg.errors.lookup(sqlstate)("server message with a 'secret' value")


def _asyncpg(sqlstate: str) -> Exception:
    """The asyncpg exception class for a SQLSTATE (asyncpg's own lookup table)."""
    cls = asyncpg.exceptions.PostgresError.get_message_class_for_sqlstate(sqlstate)
    return cls("server message")


class _AsyncAdaptError(Exception):
    """SQLAlchemy's asyncpg adapter error: no code of its own, the driver's as cause."""


def _sa_asyncpg(sqlstate: str) -> sa_exc.DBAPIError:
    adapted = _AsyncAdaptError("adapted")
    adapted.__cause__ = _asyncpg(sqlstate)
    return sa_exc.DBAPIError("INSERT ...", {}, adapted)


def _django(orig: Exception) -> django_db.DataError:
    """As Django's DatabaseErrorWrapper re-raises: the driver's args, ``from`` the driver."""
    wrapped = django_db.DataError(*orig.args)
    wrapped.__cause__ = orig
    return wrapped


def test_the_tables_are_the_documented_ones() -> None:
    """Exactly the codes of the review: adding one is a decision, not an accident."""
    assert sorted(POSTGRES_BAD_INPUT_SQLSTATES) == sorted(PG_BAD)
    assert sorted(MYSQL_BAD_INPUT_ERRNOS) == MYSQL_BAD


@pytest.mark.parametrize("sqlstate", PG_BAD)
def test_postgres_bad_input_codes_are_400(sqlstate: str) -> None:
    """Each SQLSTATE: psycopg, psycopg under SQLAlchemy, asyncpg via the adapter, Django."""
    for exc in (
        _pg(sqlstate),
        sa_exc.DataError("INSERT ...", {}, _pg(sqlstate)),
        _sa_asyncpg(sqlstate),
        _django(_pg(sqlstate)),
    ):
        assert is_bad_input(exc), (sqlstate, type(exc))
        assert database_error_code(exc) == sqlstate
    mapped = translate_exception(sa_exc.DataError("INSERT ...", {}, _pg(sqlstate)))
    assert isinstance(mapped, BadRequest)
    assert (mapped.code, mapped.status, mapped.message) == ("BAD_REQUEST", 400, BAD_INPUT_MESSAGE)
    assert isinstance(translate_exception(_sa_asyncpg(sqlstate)), BadRequest)


@pytest.mark.parametrize("sqlstate", PG_OURS)
def test_other_postgres_data_exceptions_stay_500(sqlstate: str) -> None:
    """Division by zero and friends are our bugs: INTERNAL_ERROR, whatever the wrapper."""
    for exc in (
        _pg(sqlstate),
        sa_exc.DataError("SELECT ...", {}, _pg(sqlstate)),
        _sa_asyncpg(sqlstate),
        _django(_pg(sqlstate)),
    ):
        assert not is_bad_input(exc), (sqlstate, type(exc))
        assert bad_input_error(exc) is None
    assert isinstance(
        translate_exception(sa_exc.DataError("SELECT", {}, _pg(sqlstate))), InternalError
    )
    assert isinstance(translate_exception(_sa_asyncpg(sqlstate)), InternalError)


def _mysql(cls: type[Exception], errno: int, sqlstate: str | None) -> Exception:
    """As PyMySQL (or asyncmy) raises a server error: (errno, message) and the SQLSTATE."""
    error = cls(errno, "Data too long for column 'secret' at row 1")
    if sqlstate is not None:
        error.sqlstate = sqlstate  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize("errno", MYSQL_BAD)
@pytest.mark.parametrize("sqlstate", [None, "HY000", "22007", "01000"])
def test_mysql_bad_input_errnos_are_400(errno: int, sqlstate: str | None) -> None:
    """PyMySQL and asyncmy raise these as DataError or OperationalError; the number decides,
    whatever SQLSTATE the server put beside it (MySQL and MariaDB differ)."""
    for driver_cls in (
        pymysql.err.DataError,
        pymysql.err.OperationalError,
        asyncmy.errors.DataError,
        asyncmy.errors.OperationalError,
    ):
        orig = _mysql(driver_cls, errno, sqlstate)
        for exc in (
            orig,
            sa_exc.DBAPIError("INSERT ...", {}, orig),
            sa_exc.DataError("INSERT ...", {}, orig),
            _django(orig),
        ):
            assert is_bad_input(exc), (errno, type(exc))
            assert database_error_code(exc) == errno
        mapped = translate_exception(sa_exc.OperationalError("INSERT ...", {}, orig))
        assert isinstance(mapped, BadRequest)


@pytest.mark.parametrize("errno", MYSQL_OURS)
@pytest.mark.parametrize("sqlstate", [None, "22001", "22012", "42000"])
def test_other_mysql_errors_are_not_bad_input(errno: int, sqlstate: str | None) -> None:
    """Division by zero (1365) and the rest: not the client's fault, whatever the SQLSTATE."""
    orig = _mysql(pymysql.err.DataError, errno, sqlstate)
    for exc in (orig, sa_exc.DataError("SELECT", {}, orig), _django(orig)):
        assert not is_bad_input(exc)
    assert isinstance(translate_exception(sa_exc.DataError("SELECT", {}, orig)), InternalError)


def test_client_side_data_error_without_a_code_is_400() -> None:
    """psycopg refuses NUL in text before sending anything: a DataError with no SQLSTATE."""
    orig = psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    assert orig.sqlstate is None
    for exc in (orig, sa_exc.DataError("INSERT ...", {}, orig), _django(orig)):
        assert is_bad_input(exc)
        assert database_error_code(exc) is None
    assert isinstance(translate_exception(sa_exc.DataError("INSERT", {}, orig)), BadRequest)


def test_codeless_errors_of_other_kinds_are_not_bad_input() -> None:
    """The twins: other errors without a code, and look-alikes outside any database."""

    class DataError(Exception):  # not a PEP 249 DataError: no DatabaseError above it
        pass

    for exc in (
        psycopg.OperationalError("connection lost"),
        sa_exc.ProgrammingError("SELECT", {}, psycopg.ProgrammingError("syntax")),
        django_db.DatabaseError("x"),
        DataError("a pandas-like error"),
        OSError(1406, "an errno that is not a database's"),
        ValueError("x"),
    ):
        assert not is_bad_input(exc), type(exc)


def test_integrity_and_outage_mappings_are_unchanged() -> None:
    """Bad-input mapping sits beside, not over, the Conflict and 503 rules."""
    unique = psycopg.errors.lookup("23505")("duplicate")
    assert isinstance(translate_exception(sa_exc.IntegrityError("INSERT", {}, unique)), Conflict)
    gone = psycopg.errors.lookup("57P01")("admin shutdown")
    assert isinstance(
        translate_exception(sa_exc.OperationalError("SELECT", {}, gone)), BackendUnavailable
    )
    refused = pymysql.err.OperationalError(2003, "Can't connect")
    assert isinstance(
        translate_exception(sa_exc.OperationalError("SELECT", {}, refused)), BackendUnavailable
    )


def test_bad_input_error_logs_class_and_code_only() -> None:
    """The log names the classes and the code; the client message names nothing."""
    exc = _django(_pg("22001"))
    with capture_logs() as logs:
        error = bad_input_error(exc)
    assert isinstance(error, BadRequest)
    assert error.message == BAD_INPUT_MESSAGE
    assert "secret" not in error.message
    assert [
        (e["event"], e["error"], e["driver_error"], e["code"], e["mapped_to"]) for e in logs
    ] == [("database_error", "DataError", "StringDataRightTruncation", "22001", "BAD_REQUEST")]
    assert "secret" not in str(logs)


def test_wrapping_cycles_end() -> None:
    """A cause chain that loops is walked once (no hang, no recursion error)."""
    first = psycopg.OperationalError("a")
    second = psycopg.OperationalError("b")
    first.__cause__ = second
    second.__cause__ = first
    assert not is_bad_input(first)
    assert database_error_code(first) is None
