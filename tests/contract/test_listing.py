"""GET /api/v1/users: offset and cursor walks, allowlisted sorting and filtering."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from tests.contract._api import Account, Api
from tests.contract._servers import RunningServer

USERS = "/api/v1/users"
COHORT = 12


@pytest.fixture(scope="module")
def cohort(server: RunningServer) -> Iterator[tuple[str, list[int], Account]]:
    """Twelve users sharing a unique name marker, and one logged-in reader."""
    marker = "cohort" + secrets.token_hex(4)
    with Api(server) as api:
        ids = [api.register(f"{marker} {index:02d}").id for index in range(COHORT)]
        yield marker, ids, api.new_user()


def test_offset_walk_sees_every_user_once(api: Api, cohort: tuple[str, list[int], Account]) -> None:
    """Pages 1-3 of 5 under one filter and sort: totals right, every user exactly once."""
    marker, ids, reader = cohort
    seen: list[int] = []
    for page in (1, 2, 3):
        response = api.get(
            USERS,
            token=reader.access,
            params={"q": marker, "perPage": "5", "page": str(page), "sort": "name"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["pagination"] == {"page": page, "perPage": 5, "total": COHORT, "totalPages": 3}
        seen += [user["id"] for user in body["data"]]
    assert sorted(seen) == sorted(ids)
    assert seen == ids  # sorted by name: "<marker> 00", "<marker> 01", ...
    beyond = api.get(USERS, token=reader.access, params={"q": marker, "page": "4", "perPage": "5"})
    assert beyond.json()["data"] == []


def test_cursor_walk_sees_every_user_once_both_ways(
    api: Api, cohort: tuple[str, list[int], Account]
) -> None:
    """Follow nextCursor to the end, then prevCursor back: the same pages, nothing twice."""
    marker, ids, reader = cohort
    query = {"q": marker, "perPage": "5", "sort": "-createdAt,name"}
    response = api.get(USERS, token=reader.access, params={**query, "cursor": ""})
    pages: list[list[int]] = []
    while True:
        assert response.status_code == 200
        body = response.json()
        info = body["pagination"]
        assert set(info) == {"perPage", "nextCursor", "prevCursor", "hasNext", "hasPrev"}
        assert info["hasPrev"] == (len(pages) > 0)
        pages.append([user["id"] for user in body["data"]])
        if not info["hasNext"]:
            assert info["nextCursor"] is None
            break
        response = api.get(
            USERS, token=reader.access, params={**query, "cursor": info["nextCursor"]}
        )
    flat = [user_id for page in pages for user_id in page]
    assert [len(page) for page in pages] == [5, 5, 2]
    assert sorted(flat) == sorted(ids)
    assert flat == list(reversed(ids))  # newest first
    back: list[list[int]] = [pages[-1]]
    cursor = info["prevCursor"]
    while cursor is not None:
        body = api.get(USERS, token=reader.access, params={**query, "cursor": cursor}).json()
        back.insert(0, [user["id"] for user in body["data"]])
        cursor = body["pagination"]["prevCursor"]
    assert back == pages


def test_cursors_are_tamper_evident_and_bound_to_their_query(
    api: Api, cohort: tuple[str, list[int], Account]
) -> None:
    """A changed cursor, or one reused with another sort: 400 on field cursor."""
    marker, _, reader = cohort
    query = {"q": marker, "perPage": "5", "sort": "name"}
    first = api.get(USERS, token=reader.access, params={**query, "cursor": ""}).json()
    cursor = first["pagination"]["nextCursor"]
    assert (
        api.get(USERS, token=reader.access, params={**query, "cursor": cursor}).status_code == 200
    )
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for params in (
        {**query, "cursor": flipped},
        {**query, "cursor": "not-a-cursor"},
        {**query, "sort": "-name", "cursor": cursor},
        {"q": marker + "x", "perPage": "5", "sort": "name", "cursor": cursor},
    ):
        response = api.get(USERS, token=reader.access, params=params)
        assert response.status_code == 400, params
        assert [d["field"] for d in response.json()["error"]["details"]] == ["cursor"]


def test_sorting_is_allowlisted(api: Api, cohort: tuple[str, list[int], Account]) -> None:
    """Several fields and directions work; unknown, repeated or secret fields are refused."""
    marker, ids, reader = cohort
    newest = api.get(USERS, token=reader.access, params={"q": marker, "sort": "-createdAt,name"})
    assert [user["id"] for user in newest.json()["data"]] == list(reversed(ids))
    by_name = api.get(USERS, token=reader.access, params={"q": marker, "sort": "-name"})
    assert [user["id"] for user in by_name.json()["data"]] == list(reversed(ids))
    for sort in ("passwordHash", "password_hash", "name,name", "-", "id;DROP TABLE users"):
        response = api.get(USERS, token=reader.access, params={"sort": sort})
        assert response.status_code == 400, sort
        assert {d["field"] for d in response.json()["error"]["details"]} == {"sort"}


def test_filters_are_allowlisted(api: Api, cohort: tuple[str, list[int], Account]) -> None:
    """email, role, role[in] and q filter; anything else is a 400 naming the key."""
    marker, ids, reader = cohort
    admin_email = api.server.admin_email
    by_email = api.get(USERS, token=reader.access, params={"email": admin_email}).json()
    assert [user["email"] for user in by_email["data"]] == [admin_email]
    admins = api.get(USERS, token=reader.access, params={"role": "admin", "perPage": "100"})
    assert admin_email in {user["email"] for user in admins.json()["data"]}
    assert all(user["role"] == "admin" for user in admins.json()["data"])
    both = api.get(USERS, token=reader.access, params={"q": marker, "role[in]": "admin,user"})
    assert both.json()["pagination"]["total"] == len(ids)
    nobody = api.get(USERS, token=reader.access, params={"q": "%' OR '1'='1"})
    assert nobody.status_code == 200
    assert nobody.json()["data"] == []
    for key, value in (("password", "x"), ("name", "x"), ("email[search]", "a"), ("role[gt]", "a")):
        response = api.get(USERS, token=reader.access, params={key: value})
        assert response.status_code == 400, key
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    # A key that is no field name is refused without being repeated back; a name-shaped
    # unknown key is named (the valid twin of the no-echo rule).
    hostile = api.get(USERS, token=reader.access, params={"<script>alert(1)</script>": "x"})
    assert hostile.status_code == 400
    assert "script" not in hostile.text
    assert hostile.json()["error"]["details"][0]["field"] is None
    named = api.get(USERS, token=reader.access, params={"password": "x"}).json()
    assert named["error"]["details"][0]["field"] == "password"


def test_paging_parameters_are_validated(api: Api, cohort: tuple[str, list[int], Account]) -> None:
    """page/perPage out of range or not numbers, page with cursor: 400; no token: 401."""
    _, _, reader = cohort
    for params in (
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"perPage": "0"},
        {"perPage": "101"},
        {"perPage": "1e3"},
        {"page": "1", "cursor": ""},
    ):
        response = api.get(USERS, token=reader.access, params=params)
        assert response.status_code == 400, params
    assert api.get(USERS, token=reader.access, params={"perPage": "100"}).status_code == 200
    assert api.get(USERS).status_code == 401
