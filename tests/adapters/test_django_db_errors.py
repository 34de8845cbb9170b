"""Django and DRF answer a database's refusal of a client's value with 400 BAD_REQUEST.

The decision is the core's (``backendkit._db_errors``); these tests hold the one call in
each adapter: Django's middleware and error views map through ``from_django_exception``,
DRF's exception handler through its own ``to_app_error``. Other database errors are still
left to become the generic 500.
"""

from __future__ import annotations

import psycopg
import psycopg.errors
import pymysql.err
import pytest
from django.db import utils as django_db

from backendkit.adapters.django._request import from_django_exception
from backendkit.adapters.drf._exceptions import to_app_error
from backendkit.errors import BadRequest


def _django(orig: Exception) -> django_db.Error:
    """As Django's DatabaseErrorWrapper re-raises: the PEP 249 class of the same name, the
    driver's args, ``from`` the driver's exception."""
    names = ("DataError", "OperationalError", "IntegrityError", "ProgrammingError")
    name = next(c.__name__ for c in type(orig).__mro__ if c.__name__ in names)
    wrapped: django_db.Error = getattr(django_db, name)(*orig.args)
    wrapped.__cause__ = orig
    return wrapped


PG = psycopg.errors.lookup
BAD_INPUT = [
    pytest.param(PG("22001")("value too long for type varchar(5): secret"), id="pg-22001"),
    pytest.param(PG("22021")("invalid byte sequence for UTF8: 0x00 secret"), id="pg-22021"),
    pytest.param(PG("22003")("smallint out of range: secret"), id="pg-22003"),
    pytest.param(psycopg.DataError("text fields cannot contain NUL (0x00) bytes"), id="pg-client"),
    pytest.param(pymysql.err.DataError(1406, "Data too long for 'secret'"), id="mysql-1406"),
    pytest.param(pymysql.err.OperationalError(1366, "Incorrect value: 'secret'"), id="mysql-1366"),
]
OURS = [
    pytest.param(psycopg.errors.lookup("22012")("division by zero"), id="pg-22012"),
    pytest.param(pymysql.err.DataError(1365, "Division by 0"), id="mysql-1365"),
    pytest.param(psycopg.errors.lookup("42703")("column does not exist"), id="pg-42703"),
]


@pytest.mark.parametrize("orig", BAD_INPUT)
def test_bad_input_is_400_in_django_and_drf(orig: Exception) -> None:
    """django.db.DataError (and the OperationalError MySQL uses) from a client value: 400."""
    exc = _django(orig)
    for mapped in (from_django_exception(exc), to_app_error(exc, {})):
        assert isinstance(mapped, BadRequest)
        assert (mapped.code, mapped.status) == ("BAD_REQUEST", 400)
        assert "secret" not in mapped.message


@pytest.mark.parametrize("orig", OURS)
def test_other_database_errors_are_left_for_the_500(orig: Exception) -> None:
    """Division by zero, a broken query: returned unchanged (the generic 500 follows)."""
    exc = _django(orig)
    assert from_django_exception(exc) is exc
    assert to_app_error(exc, {}) is exc
