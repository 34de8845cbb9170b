"""Hostile values in bodies and query strings: 400 VALIDATION_ERROR naming the field.

A NUL character (``"ab\\u0000cd"`` in JSON, ``%00`` in a query string) used to reach
PostgreSQL, which cannot store or compare it, and came back as a 500 in every app (asyncpg
gets SQLSTATE 22021 from the server, psycopg refuses it on the client). Each app now refuses
it before any database work, on the field that carried it, and never echoes it; the same
requests without the NUL (the twins) succeed.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

import httpx
import jwt
import pytest
from tests.contract._api import Account, Api
from tests.contract._servers import RunningServer

REGISTER = "/api/v1/auth/register"
USERS = "/api/v1/users"
NUL_NAME = "ab\u0000cd"


def _refused_on(response: httpx.Response, field: str) -> None:
    """400 VALIDATION_ERROR with a detail on ``field``, the NUL never sent back."""
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [detail["field"] for detail in error["details"]], error
    assert "\\u0000" not in response.text
    assert "\x00" not in response.text


def test_nul_in_the_name_on_register(api: Api) -> None:
    """``name: "ab\\u0000cd"`` on register: refused on ``name``; the twin registers."""
    body = {"email": "nul-register@example.com", "password": "pw-long-enough-1", "name": NUL_NAME}
    _refused_on(api.post(REGISTER, json_body=body), "name")
    _refused_on(
        api.post(REGISTER, json_body={**body, "email": "nul\u0000@example.com", "name": "ok"}),
        "email",
    )
    twin = api.register("ab cd Zoë 日本")
    assert twin.id > 0


def test_nul_in_the_name_on_update(api: Api) -> None:
    """``PUT /api/v1/users/{id}`` with a NUL in ``name``: refused; unchanged; the twin updates."""
    owner = api.new_user("Before")
    path = f"{USERS}/{owner.id}"
    _refused_on(api.put(path, token=owner.access, json_body={"name": NUL_NAME}), "name")
    assert api.get(path, token=owner.access).json()["data"]["name"] == "Before"
    updated = api.put(path, token=owner.access, json_body={"name": "ab cd"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["name"] == "ab cd"


def test_nul_in_list_filters(api: Api) -> None:
    """``?q=%00`` and ``?email=%00`` on the list: refused on ``q`` / ``email``; twins list."""
    reader = api.new_user("Nul Search Target")
    me = api.get(f"{USERS}/me", token=reader.access).json()["data"]
    for params, field in (
        ({"q": "\x00"}, "q"),
        ({"q": "Nul\x00Search"}, "q"),
        ({"email": "\x00"}, "email"),
        ({"email": me["email"] + "\x00"}, "email"),
    ):
        _refused_on(api.get(USERS, token=reader.access, params=params), field)
    by_q = api.get(USERS, token=reader.access, params={"q": "Nul Search"})
    assert by_q.status_code == 200, by_q.text
    assert me["id"] in [user["id"] for user in by_q.json()["data"]]
    by_email = api.get(USERS, token=reader.access, params={"email": me["email"]})
    assert by_email.status_code == 200, by_email.text
    assert [user["id"] for user in by_email.json()["data"]] == [me["id"]]


def test_nul_in_paging_parameters(api: Api) -> None:
    """A NUL in ``cursor``, ``page`` or ``sort``: a 400 on that parameter, never a 500."""
    reader = api.new_user()
    for params, field in (
        ({"cursor": "\x00"}, "cursor"),
        ({"page": "1\x00"}, "page"),
        ({"sort": "name\x00"}, "sort"),
    ):
        response = api.get(USERS, token=reader.access, params=params)
        assert response.status_code == 400, (params, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", (params, error)
        assert field in [detail["field"] for detail in error["details"]], (params, error)
    assert api.get(USERS, token=reader.access, params={"sort": "name"}).status_code == 200


def test_password_beyond_72_bytes_does_not_log_in(api: Api) -> None:
    """A 72-byte password's owner is not logged in by that password plus more bytes.

    bcrypt reads 72 bytes; the apps used to accept ``"P" * 72 + "X"`` (and 900 more bytes)
    for an account whose password is ``"P" * 72``. ASCII and two-byte characters; the
    exact password (the twin) logs in.
    """
    for index, (password, extra) in enumerate((("P" * 72, "X"), ("é" * 36, "x"))):
        assert len(password.encode()) == 72
        email = f"long-{index}-{api.address.replace('.', '-')}@example.com"
        with Api(api.server) as fresh:
            registered = fresh.post(
                REGISTER, json_body={"email": email, "password": password, "name": "Long"}
            )
        assert registered.status_code == 201, registered.text
        for attempt in (password + extra, password + extra * 900):
            with Api(api.server) as fresh:
                denied = fresh.post(
                    "/api/v1/auth/login", json_body={"email": email, "password": attempt}
                )
            assert denied.status_code == 401, denied.text
            assert denied.json()["error"]["code"] == "UNAUTHENTICATED"
        with Api(api.server) as fresh:
            accepted = fresh.post(
                "/api/v1/auth/login", json_body={"email": email, "password": password}
            )
        assert accepted.status_code == 200, accepted.text


def _resigned(server: RunningServer, account: Account, **changes: Any) -> str:
    """``account``'s access token with ``changes``, signed again with the server's secret."""
    header = jwt.get_unverified_header(account.access)
    claims = jwt.decode(account.access, options={"verify_signature": False})
    claims.update(changes, jti=secrets.token_urlsafe(16))
    return jwt.encode(claims, server.env["BACKENDKIT_JWT_SECRET"], algorithm=header["alg"])


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "auth_time"])
def test_huge_time_claims_are_401_not_500(api: Api, claim: str) -> None:
    """A correctly signed token whose time claim is 10**400 (or negative, or NaN): a clean
    ``401 INVALID_TOKEN`` (it used to overflow into a 500); the re-signed twin is a 200."""
    account = api.new_user()
    for value in (10**400, -1, math.nan):
        token = _resigned(api.server, account, **{claim: value})
        response = api.get(f"{USERS}/me", token=token)
        assert response.status_code == 401, (value, response.text)
        assert response.json()["error"]["code"] == "INVALID_TOKEN"
    twin = api.get(f"{USERS}/me", token=_resigned(api.server, account))
    assert twin.status_code == 200, twin.text
