"""API keys: create (shown once), list (no secrets), revoke; both headers; hostile input.

Run on every server of the suite. Only a bearer session may create keys, with scopes it
holds; another user's key id is a 404 like an unknown one; a revoked key is a 401 at once
in every worker (the PostgreSQL and MariaDB legs, four and two workers).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.contract._api import Account, Api
from tests.contract._servers import RunningServer

KEYS = "/api/v1/auth/api-keys"
ME = "/api/v1/users/me"
LOGOUT = "/api/v1/auth/logout"
#: What the creation answers: the listed fields plus the key itself.
LISTED_FIELDS = {"id", "name", "prefix", "scopes", "createdAt", "expiresAt", "lastUsedAt"}
#: A key is refused with one of these (no key / a bad or revoked one).
REFUSALS = {"UNAUTHENTICATED", "INVALID_TOKEN"}


def create_key(api: Api, account: Account, **body: Any) -> dict[str, Any]:
    """Create a key for ``account`` (201) and record it as a secret for the log check."""
    response = api.post(KEYS, token=account.access, json_body={"name": "ci", **body})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    api.server.secrets.tokens.add(data["key"])
    return data


def key_header(key: str) -> dict[str, str | bytes]:
    """``Authorization: ApiKey <key>``."""
    return {"Authorization": f"ApiKey {key}"}


def assert_refused(response: Any) -> None:
    """A 401 with the envelope's refusal codes."""
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in REFUSALS


def test_a_key_is_shown_once_and_listed_without_its_secret(api: Api) -> None:
    """201 with the key (prefix, scopes, expiry); the list (newest first) never holds it."""
    account = api.new_user()
    first = create_key(api, account, name="first")
    second = create_key(api, account, name="second", expiresInDays=30)
    assert set(second) == LISTED_FIELDS | {"key"}
    assert second["key"].startswith(second["prefix"] + "_")
    assert (second["name"], second["lastUsedAt"], first["expiresAt"]) == ("second", None, None)
    assert second["expiresAt"].endswith("Z")
    assert isinstance(second["scopes"], list)
    listed = api.get(KEYS, token=account.access)
    assert listed.status_code == 200
    items = listed.json()["data"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert all(set(item) == LISTED_FIELDS for item in items)
    for made in (first, second):
        # The secret is all that follows "<prefix>_<id>_" (base64url may itself hold "_").
        secret = made["key"].removeprefix(made["prefix"] + "_")
        assert len(secret) >= 22
        assert secret not in listed.text
    # Another user lists only their own keys.
    assert api.get(KEYS, token=api.new_user().access).json()["data"] == []


def test_both_headers_authenticate_as_the_owner(api: Api) -> None:
    """``Authorization: ApiKey`` and ``X-API-Key`` give /me the key's owner; a changed key
    byte is a 401 (its valid twin just before)."""
    account = api.new_user()
    key = create_key(api, account)["key"]
    for headers in (key_header(key), {"X-API-Key": key}):
        me = api.get(ME, headers=headers)
        assert me.status_code == 200, me.text
        assert (me.json()["data"]["id"], me.json()["data"]["email"]) == (account.id, account.email)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert_refused(api.get(ME, headers=key_header(tampered)))
    assert_refused(api.get(ME, headers={"X-API-Key": tampered}))
    listed = api.get(KEYS, headers={"X-API-Key": key}).json()["data"]
    assert listed[0]["lastUsedAt"] is None or listed[0]["lastUsedAt"].endswith("Z")


def test_a_key_cannot_create_keys(api: Api) -> None:
    """An API-key caller gets 403 FORBIDDEN; the owner's session creates the same key."""
    account = api.new_user()
    key = create_key(api, account)["key"]
    for headers in (key_header(key), {"X-API-Key": key}):
        refused = api.post(KEYS, headers=headers, json_body={"name": "from a key"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert create_key(api, account, name="from a key")["name"] == "from a key"


def test_scopes_must_be_held_by_the_creator(api: Api) -> None:
    """A scope the caller does not hold: 403; the caller's own (none asked, or an empty
    list) is granted."""
    account = api.new_user()
    refused = api.post(
        KEYS,
        token=account.access,
        json_body={"name": "greedy", "scopes": ["admin", f"not-held-{secrets.token_hex(3)}"]},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert create_key(api, account, scopes=[])["scopes"] == []
    assert isinstance(create_key(api, account)["scopes"], list)


def test_revoke_is_for_the_owner_and_takes_effect_at_once(api: Api) -> None:
    """Another user's key id and an unknown id: 404 (the same body); the owner: 204, then
    the key is a 401 and no longer listed; revoking again, or ids no key has (long,
    not hex, escaped dots): 404."""
    owner, stranger = api.new_user(), api.new_user()
    data = create_key(api, owner)
    assert api.get(ME, headers={"X-API-Key": data["key"]}).status_code == 200
    path = f"{KEYS}/{data['id']}"
    theirs = api.delete(path, token=stranger.access)
    unknown = api.delete(f"{KEYS}/{'0' * 16}", token=owner.access)
    bodies = []
    for response in (theirs, unknown):
        assert response.status_code == 404, response.text
        error = response.json()["error"]
        error.pop("requestId")
        bodies.append(error)
    assert bodies[0] == bodies[1]
    assert api.get(ME, headers={"X-API-Key": data["key"]}).status_code == 200  # untouched
    assert api.delete(path, token=owner.access).status_code == 204
    assert_refused(api.get(ME, headers={"X-API-Key": data["key"]}))
    assert_refused(api.get(ME, headers=key_header(data["key"])))
    assert api.get(KEYS, token=owner.access).json()["data"] == []
    assert api.delete(path, token=owner.access).status_code == 404
    for odd in ("x" * 300, "not-hex", "1", "%2e%2e"):
        response = api.delete(f"{KEYS}/{odd}", token=owner.access)
        assert response.status_code == 404, (odd, response.text)
    # A NUL is no id at all: PostgreSQL refuses it in a query (400 BAD_REQUEST, the
    # catalogue's answer to a value the database cannot hold); elsewhere nothing matches.
    assert api.delete(f"{KEYS}/%00", token=owner.access).status_code in {400, 404}


#: Invalid creation bodies and the field each must be refused on.
INVALID_BODIES: list[tuple[dict[str, Any], str]] = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": 7}, "name"),
    ({"name": "ci", "expiresInDays": 0}, "expiresInDays"),
    ({"name": "ci", "expiresInDays": 3651}, "expiresInDays"),
    ({"name": "ci", "expiresInDays": "soon"}, "expiresInDays"),
    ({"name": "ci", "scopes": "admin"}, "scopes"),
    ({"name": "ci", "scopes": [1, None]}, "scopes"),
    ({"name": "ci", "owner": 1}, "owner"),
]


def test_invalid_bodies_name_the_field(api: Api) -> None:
    """Each invalid body: 400 VALIDATION_ERROR naming the field (twin: the test below)."""
    token = api.new_user().access
    for body, field in INVALID_BODIES:
        response = api.post(KEYS, token=token, json_body=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        fields = {detail["field"].split(".")[0].split("[")[0] for detail in error["details"]}
        assert field in fields, (body, fields)
    assert api.get(KEYS, token=token).json()["data"] == []


def test_the_valid_twin_of_the_invalid_bodies(api: Api) -> None:
    """The boundary values are accepted: a 100-character name, 1 and 3650 days."""
    account = api.new_user()
    assert create_key(api, account, name="x" * 100, expiresInDays=1)["name"] == "x" * 100
    assert create_key(api, account, expiresInDays=3650)["expiresAt"].endswith("Z")


def test_hostile_bodies_are_enveloped(api: Api) -> None:
    """Malformed, empty, non-object, NUL-bearing and huge bodies: 400 or 413, never a 5xx."""
    token = api.new_user().access
    json_type: dict[str, str | bytes] = {"Content-Type": "application/json"}
    cases = [
        (b'{"name": ', 400),
        (b"", 400),
        (b"[]", 400),
        (b'"ci"', 400),
        (b"null", 400),
        (b"[" * 5000 + b"]" * 5000, 400),
        (b'{"name": "\\u0000"}', 400),
        (b'{"name": "' + b"x" * 2_000_000 + b'"}', 413),
    ]
    for content, status in cases:
        response = api.post(KEYS, token=token, content=content, headers=json_type)
        assert response.status_code == status, (content[:20], response.text)
    assert api.get(KEYS, token=token).json()["data"] == []  # nothing was created


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": ""},
        {"X-API-Key": "garbage"},
        {"X-API-Key": "x" * 4000},
        {"X-API-Key": b"bk_\xff\xfe"},
        {"Authorization": "ApiKey"},
        {"Authorization": "ApiKey garbage"},
        {"Authorization": "ApiKey " + "y" * 4000},
        {"Authorization": "ApiKey a b c"},
    ],
    ids=["empty", "garbage", "huge", "latin1", "bare", "scheme-garbage", "scheme-huge", "spaces"],
)
def test_malformed_keys_are_a_401(api: Api, headers: dict[str, str | bytes]) -> None:
    """Malformed keys in either header: a 401 envelope (twin: the headers test above)."""
    response = api.get(ME, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in REFUSALS


def test_logout_with_a_key_is_a_clear_answer(api: Api) -> None:
    """A key has no session to end: a clear 4xx (or 204), never a 5xx; the key's owner's
    session logs out as usual (the valid twin)."""
    account = api.new_user()
    key = create_key(api, account)["key"]
    response = api.post(LOGOUT, headers={"X-API-Key": key})
    assert response.status_code in {204, 400, 401, 403}, response.text
    assert api.post(LOGOUT, token=account.access).status_code == 204


#: Bytes a worker writes while idle stay far below this in a round (uvicorn's workers
#: write 32 bytes every few seconds); the log line of one request is well above it.
_SERVED_BYTES = 150
#: Rounds before concluding that the kernel gives every connection to one worker.
_MAX_ROUNDS = 25


def _written(server: RunningServer) -> dict[int, int]:
    """Bytes each process of the server's group other than the master has written."""
    counts = {}
    for pid in server.worker_pids():
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/io").read_text().splitlines():
                if line.startswith("wchar:"):
                    counts[pid] = int(line.split()[1])
    return counts


def from_every_worker(server: RunningServer, send: Callable[[Api], int]) -> set[int]:
    """The statuses of ``send(client)`` repeated (a new connection each time) until every
    worker has answered at least one: a worker that answers logs the request, so its
    written bytes grow by a log line within the round. Each round has a client address of
    its own, so the per-address limit never answers instead."""
    statuses: set[int] = set()
    served: set[int] = set()
    for _ in range(_MAX_ROUNDS):
        before = _written(server)
        with Api(server) as client:
            statuses |= {send(client) for _ in range(2 * server.workers)}
        after = _written(server)
        served |= {pid for pid, n in after.items() if n - before.get(pid, n) >= _SERVED_BYTES}
        if len(served) >= server.workers:
            return statuses
    raise AssertionError(f"{len(served)} of {server.workers} workers answered")


@pytest.mark.contract_only(backend=("services", "mariadb"))
def test_a_revoked_key_is_refused_by_every_worker(server: RunningServer, api: Api) -> None:
    """With several workers: the key works in every worker, then right after its
    revocation no worker accepts it (no per-process copy outlives it)."""
    account = api.new_user()
    data = create_key(api, account)

    def use_key(client: Api) -> int:
        return client.get(ME, headers={"X-API-Key": data["key"]}).status_code

    assert from_every_worker(server, use_key) == {200}
    assert api.delete(f"{KEYS}/{data['id']}", token=account.access).status_code == 204
    assert from_every_worker(server, use_key) == {401}
    assert api.get(ME, token=account.access).status_code == 200  # the session is untouched
