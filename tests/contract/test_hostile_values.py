"""Hostile values in bodies and query strings: 400 VALIDATION_ERROR naming the field.

A NUL character (``"ab\\u0000cd"`` in JSON, ``%00`` in a query string) used to reach
PostgreSQL, which cannot store or compare it, and came back as a 500 in every app (asyncpg
gets SQLSTATE 22021 from the server, psycopg refuses it on the client). Each app now refuses
it before any database work, on the field that carried it, and never echoes it; the same
requests without the NUL (the twins) succeed.
"""

from __future__ import annotations

from typing import Any

import httpx
from tests.contract._api import Api

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
