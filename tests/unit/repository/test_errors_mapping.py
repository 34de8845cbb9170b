"""Error translation from driver errors, for messages each database really produces.

The exceptions are built the way the drivers build them (same class, same args) so that the
parsing of every database's wording is covered without needing each failure to be provoked;
the integration suite provokes the real ones.
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from backendkit.errors import BackendUnavailable, Conflict, InternalError, NotFound
from backendkit.repository import translate_errors, translate_exception


class _Base(DeclarativeBase):
    metadata = sa.MetaData()


class Account(_Base):
    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("tenant", "email", name="uq_tenant_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant: Mapped[int]
    email_address: Mapped[str] = mapped_column("email", sa.String(50))
    nick: Mapped[str] = mapped_column(sa.String(20), unique=True)


class _MySQLError(Exception):
    """Like pymysql errors: args = (errno, message)."""


class _PgDiag:
    def __init__(self, **values: str) -> None:
        self.__dict__.update(values)


class _PgError(Exception):
    """Like psycopg errors: sqlstate and diag."""

    def __init__(self, sqlstate: str, **diag: str) -> None:
        super().__init__("error")
        self.sqlstate = sqlstate
        self.diag = _PgDiag(**diag)


def _integrity(orig: Exception) -> sa_exc.IntegrityError:
    return sa_exc.IntegrityError("INSERT ...", {}, orig)


@pytest.mark.parametrize(
    ("orig", "fields", "message"),
    [
        (
            _MySQLError(1062, "Duplicate entry 'a' for key 'nick'"),
            ["nick"],
            "A record with this nick already exists",
        ),
        (
            _MySQLError(1062, "Duplicate entry '1-a' for key 'accounts.uq_tenant_email'"),
            ["tenant", "emailAddress"],
            None,
        ),
        (_MySQLError(1048, "Column 'nick' cannot be null"), ["nick"], "The nick is required"),
        (
            _MySQLError(
                1452,
                "Cannot add or update a child row: a foreign key constraint fails "
                "(`d`.`c`, CONSTRAINT `fk` FOREIGN KEY (`tenant`) REFERENCES `t` (`id`))",
            ),
            ["tenant"],
            None,
        ),
        (
            _PgError(
                "23505",
                constraint_name="uq_tenant_email",
                message_detail="Key (tenant, email)=(1, a) already exists.",
            ),
            ["tenant", "emailAddress"],
            None,
        ),
        (_PgError("23505", constraint_name="uq_tenant_email"), ["tenant", "emailAddress"], None),
        (_PgError("23502", column_name="nick"), ["nick"], "The nick is required"),
        (_PgError("23514", constraint_name="ck_x"), [], "A value is not allowed"),
        (
            Exception("UNIQUE constraint failed: accounts.tenant, accounts.email"),
            ["tenant", "emailAddress"],
            None,
        ),
        (Exception("NOT NULL constraint failed: accounts.nick"), ["nick"], None),
        (Exception("CHECK constraint failed: positive"), [], "A value is not allowed"),
        (Exception("FOREIGN KEY constraint failed"), [], None),
        (
            Exception("something else"),
            [],
            "The request conflicts with the current state of the resource",
        ),
    ],
)
def test_integrity_errors_become_conflicts_naming_fields(
    orig: Exception, fields: list[str], message: str | None
) -> None:
    """Each database's wording is parsed into the wire field names (camelCase attributes)."""
    error = translate_exception(_integrity(orig), Account)
    assert isinstance(error, Conflict)
    assert [d.field for d in error.details] == fields
    if message is not None:
        assert error.message == message
    assert "INSERT" not in error.message


def test_without_a_model_columns_are_still_named() -> None:
    """Outside a repository (a unit of work's commit) column names are camel-cased."""
    error = translate_exception(
        _integrity(_PgError("23505", message_detail="Key (user_name)=(x) already exists."))
    )
    assert isinstance(error, Conflict)
    assert [d.field for d in error.details] == ["userName"]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (StaleDataError("stale"), Conflict),
        (sa_exc.OperationalError("x", {}, _MySQLError(2003, "Can't connect")), BackendUnavailable),
        (
            sa_exc.OperationalError("x", {}, _MySQLError(1205, "Lock wait timeout")),
            BackendUnavailable,
        ),
        (sa_exc.OperationalError("x", {}, _MySQLError(1054, "Unknown column")), InternalError),
        (sa_exc.OperationalError("x", {}, _MySQLError(4025, "CONSTRAINT `c` failed")), Conflict),
        (sa_exc.OperationalError("x", {}, _PgError("57014")), BackendUnavailable),
        (sa_exc.DBAPIError("x", {}, _PgError("40001")), BackendUnavailable),
        (sa_exc.DBAPIError("x", {}, _PgError("42703")), InternalError),
        (
            sa_exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked")),
            BackendUnavailable,
        ),
        (
            sa_exc.OperationalError("x", {}, sqlite3.OperationalError("no such table: x")),
            InternalError,
        ),
        (sa_exc.OperationalError("x", {}, OSError("no code at all")), BackendUnavailable),
        (sa_exc.TimeoutError("pool"), BackendUnavailable),
        (sa_exc.DisconnectionError("gone"), BackendUnavailable),
        (sa_exc.ProgrammingError("x", {}, Exception("syntax")), InternalError),
        (sa_exc.ArgumentError("bad"), InternalError),
        (ConnectionRefusedError(111, "refused"), BackendUnavailable),
    ],
)
def test_other_errors_map_by_kind(exc: Exception, expected: type[Exception]) -> None:
    """Connection, timeout and overload problems are 503; query bugs are 500."""
    assert isinstance(translate_exception(exc), expected)


def test_invalidated_connections_are_unavailable() -> None:
    """A DBAPIError that invalidated the connection is SERVICE_UNAVAILABLE."""
    exc = sa_exc.DBAPIError("x", {}, Exception("closed"), connection_invalidated=True)
    assert isinstance(translate_exception(exc), BackendUnavailable)


def test_non_database_errors_pass_through() -> None:
    """translate_errors leaves AppErrors and foreign exceptions alone, chains the mapped ones."""
    assert translate_exception(KeyError("x")) is None
    with pytest.raises(NotFound), translate_errors():
        raise NotFound()
    with pytest.raises(KeyError), translate_errors():
        raise KeyError("x")
    with pytest.raises(Conflict) as info, translate_errors(Account):
        raise StaleDataError("stale")
    assert isinstance(info.value.__cause__, StaleDataError)
