"""Register, login, refresh rotation and reuse, logout: the same behaviour on every app."""

from __future__ import annotations

import secrets

from tests.contract._api import Api

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def test_register_returns_the_user_without_its_hash(api: Api) -> None:
    """201 with the user (normalized email, role user); the hash is never shown."""
    local = "Mixed.Case." + secrets.token_hex(4)
    response = api.post(
        REGISTER,
        json_body={"email": f"  {local}@Example.COM ", "password": "long-enough-pw", "name": "Ann"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "User registered successfully"
    user = body["data"]
    assert set(user) == {"id", "email", "name", "role", "createdAt", "updatedAt"}
    assert (user["email"], user["name"], user["role"]) == (
        f"{local.lower()}@example.com",
        "Ann",
        "user",
    )
    assert user["createdAt"].endswith("Z")


def test_register_twice_is_a_conflict(api: Api) -> None:
    """The same email (in any case) again: 409 CONFLICT naming the field."""
    account = api.register()
    response = api.post(
        REGISTER,
        json_body={"email": account.email.upper(), "password": "another-password", "name": "B"},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"] == [{"field": "email", "message": "is already registered"}]


def test_register_lists_every_invalid_field(api: Api) -> None:
    """Bad email, short password, empty name and an unknown field: one 400 naming each."""
    response = api.post(
        REGISTER, json_body={"email": "nope", "password": "short", "name": " ", "admin": True}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert {d["field"] for d in error["details"]} == {"email", "password", "name", "admin"}


def test_register_valid_twin_passes(api: Api) -> None:
    """The valid twin of the test above registers."""
    assert api.register().id > 0


def test_login_returns_a_bearer_pair(api: Api) -> None:
    """200 with accessToken, refreshToken, tokenType Bearer, expiresIn; never cached."""
    account = api.register()
    response = api.post(LOGIN, json_body={"email": account.email, "password": account.password})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["message"] == "Login successful"
    data = body["data"]
    assert set(data) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    assert data["tokenType"] == "Bearer"
    assert isinstance(data["expiresIn"], int)
    assert 0 < data["expiresIn"] <= 900
    me = api.get(ME, token=data["accessToken"])
    assert me.status_code == 200
    assert me.json()["data"]["email"] == account.email


def test_wrong_email_and_wrong_password_get_the_same_answer(api: Api) -> None:
    """Unknown email and wrong password: the same 401 body (but the request id)."""
    account = api.register()
    wrong_password = api.post(LOGIN, json_body={"email": account.email, "password": "x" * 12})
    unknown = api.post(LOGIN, json_body={"email": "ghost@example.com", "password": "x" * 12})
    malformed = api.post(LOGIN, json_body={"email": "not an email", "password": "x" * 12})
    bodies = []
    for response in (wrong_password, unknown, malformed):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        error = response.json()["error"]
        error.pop("requestId")
        bodies.append(error)
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["code"] == "UNAUTHENTICATED"


def test_login_is_limited_per_account_then_per_address(api: Api) -> None:
    """5 tries per (address, email), then 429; 10 per address in all, then 429 for any email."""
    first, second = api.register(), api.register()
    statuses = [
        api.post(LOGIN, json_body={"email": first.email, "password": "wrong-password"}).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    # Another email from the same address still gets its own tries, up to the address limit.
    more = [
        api.post(LOGIN, json_body={"email": second.email, "password": "wrong-password"})
        for _ in range(5)
    ]
    assert [r.status_code for r in more] == [401] * 4 + [429]
    limited = more[-1]
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-remaining"] == "0"
    # The right password from this address is refused too; another address is unaffected.
    blocked = api.post(LOGIN, json_body={"email": second.email, "password": second.password})
    assert blocked.status_code == 429
    assert api.login(second).access


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    """A refresh token works once; presenting it again ends the whole session."""
    account = api.new_user()
    first = api.post(REFRESH, json_body={"refreshToken": account.refresh})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    pair = first.json()["data"]
    assert pair["refreshToken"] != account.refresh
    assert pair["accessToken"] != account.access
    assert api.get(ME, token=pair["accessToken"]).status_code == 200
    reuse = api.post(REFRESH, json_body={"refreshToken": account.refresh})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "INVALID_TOKEN"
    # The family is revoked: the newest refresh token and its access token are dead too.
    assert api.post(REFRESH, json_body={"refreshToken": pair["refreshToken"]}).status_code == 401
    assert api.get(ME, token=pair["accessToken"]).status_code == 401
    # Other sessions of the user are untouched.
    assert api.get(ME, token=api.login(account).access).status_code == 200


def test_refresh_refuses_anything_but_a_refresh_token(api: Api) -> None:
    """Garbage, an access token, or no token: 401 INVALID_TOKEN or 400."""
    account = api.new_user()
    for token in ("garbage", account.access, account.refresh + "x"):
        response = api.post(REFRESH, json_body={"refreshToken": token})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "INVALID_TOKEN"
    assert api.post(REFRESH, json_body={}).status_code == 400
    assert api.post(REFRESH, json_body={"refreshToken": account.refresh}).status_code == 200


def test_logout_revokes_the_session(api: Api) -> None:
    """204 without a body; then the access and refresh tokens of that session fail."""
    account = api.new_user()
    other_session = api.login(api.register())  # an unrelated user stays logged in
    response = api.post(LOGOUT, token=account.access)
    assert response.status_code == 204
    assert response.content == b""
    assert api.get(ME, token=account.access).status_code == 401
    assert api.post(REFRESH, json_body={"refreshToken": account.refresh}).status_code == 401
    assert api.get(ME, token=other_session.access).status_code == 200


def test_logout_needs_authentication(api: Api) -> None:
    """Without a token: 401 UNAUTHENTICATED with a Bearer challenge."""
    response = api.post(LOGOUT)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
