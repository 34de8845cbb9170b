"""Users: me, get (cached, invalidated on change), update (owner or admin), delete (admin)."""

from __future__ import annotations

from tests.contract._api import Api

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


def user_path(user_id: int | str) -> str:
    return f"/api/v1/users/{user_id}"


def test_me_needs_a_valid_token(api: Api) -> None:
    """No token, a malformed header, a forged token: 401; the valid twin passes."""
    missing = api.get(ME)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "UNAUTHENTICATED"
    assert api.get(ME, headers={"Authorization": "Token abc"}).status_code == 401
    account = api.new_user()
    header, payload, signature = account.access.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    rejected = api.get(ME, token=forged)
    assert rejected.status_code == 401
    assert rejected.json()["error"]["code"] == "INVALID_TOKEN"
    me = api.get(ME, token=account.access)
    assert me.status_code == 200
    assert me.json()["message"] == "User retrieved successfully"
    assert me.json()["data"]["id"] == account.id


def test_get_user_by_id(api: Api) -> None:
    """Any user can read a user; unknown ids are 404; malformed ids are 400 on field id."""
    reader, other = api.new_user(), api.register("Other")
    found = api.get(user_path(other.id), token=reader.access)
    assert found.status_code == 200
    assert found.json()["data"]["name"] == "Other"
    assert api.get(user_path(10**12), token=reader.access).json()["error"]["code"] == "NOT_FOUND"
    for bad in ("abc", "0", "-1", "1.5", "9" * 30):
        response = api.get(user_path(bad), token=reader.access)
        assert response.status_code == 400, bad
        assert [d["field"] for d in response.json()["error"]["details"]] == ["id"]
    assert api.get(user_path(other.id)).status_code == 401


def test_update_is_seen_at_once_despite_the_cache(api: Api) -> None:
    """GET fills the cache; PUT invalidates it: the next GET (any caller) sees the change."""
    owner, reader = api.new_user("Before"), api.new_user()
    for _ in range(2):  # the second read is a cache hit
        assert api.get(user_path(owner.id), token=reader.access).json()["data"]["name"] == "Before"
    updated = api.put(user_path(owner.id), token=owner.access, json_body={"name": "After"})
    assert updated.status_code == 200
    assert updated.json()["message"] == "User updated successfully"
    assert updated.json()["data"]["name"] == "After"
    for _ in range(3):  # several workers, one shared cache (or one process): never stale
        assert api.get(user_path(owner.id), token=reader.access).json()["data"]["name"] == "After"
    assert api.get(ME, token=owner.access).json()["data"]["name"] == "After"


def test_update_is_for_the_owner_or_an_admin(api: Api) -> None:
    """Another user: 403; an admin: 200; unknown id: 404 for an admin, 403 for others."""
    owner, stranger, admin = api.new_user(), api.new_user(), api.admin()
    denied = api.put(user_path(owner.id), token=stranger.access, json_body={"name": "Hacked"})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "FORBIDDEN"
    by_admin = api.put(user_path(owner.id), token=admin.access, json_body={"name": "By Admin"})
    assert by_admin.status_code == 200
    assert by_admin.json()["data"]["name"] == "By Admin"
    assert (
        api.put(user_path(10**12), token=admin.access, json_body={"name": "x"}).status_code == 404
    )
    assert (
        api.put(user_path(10**12), token=stranger.access, json_body={"name": "x"}).status_code
        == 403
    )


def test_roles_are_changed_by_admins_only(api: Api) -> None:
    """A user cannot promote itself; an admin can, and the user's old sessions end."""
    user, admin = api.new_user(), api.admin()
    refused = api.put(user_path(user.id), token=user.access, json_body={"role": "admin"})
    assert refused.status_code == 403
    promoted = api.put(user_path(user.id), token=admin.access, json_body={"role": "admin"})
    assert promoted.status_code == 200
    assert promoted.json()["data"]["role"] == "admin"
    assert api.get(ME, token=user.access).status_code == 401  # old privileges, old session
    assert api.get(ME, token=api.login(user).access).json()["data"]["role"] == "admin"


def test_password_change_needs_the_current_password(api: Api) -> None:
    """Missing or wrong currentPassword: 400; right one: 200, and only the new one logs in."""
    user = api.new_user()
    path = user_path(user.id)
    missing = api.put(path, token=user.access, json_body={"password": "a-new-password-1"})
    assert missing.status_code == 400
    assert missing.json()["error"]["details"][0]["field"] == "currentPassword"
    wrong = api.put(
        path,
        token=user.access,
        json_body={"password": "a-new-password-1", "currentPassword": "not-the-password"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["field"] == "currentPassword"
    changed = api.put(
        path,
        token=user.access,
        json_body={"password": "a-new-password-1", "currentPassword": user.password},
    )
    assert changed.status_code == 200
    assert api.get(ME, token=user.access).status_code == 401  # logged out everywhere
    old = api.post(LOGIN, json_body={"email": user.email, "password": user.password})
    assert old.status_code == 401
    user.password = "a-new-password-1"
    assert api.login(user).access


def test_update_refuses_bad_input(api: Api) -> None:
    """Unknown fields, nulls, a taken email, a bad role: 400/409; an empty body changes nothing."""
    user, other = api.new_user(), api.register()
    path = user_path(user.id)
    for body in ({"nickname": "x"}, {"name": None}, {"name": ""}, {"role": "root"}, [1]):
        response = api.put(path, token=user.access, json_body=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    taken = api.put(path, token=user.access, json_body={"email": other.email})
    assert taken.status_code == 409
    unchanged = api.put(path, token=user.access, json_body={})
    assert unchanged.status_code == 200
    assert unchanged.json()["data"]["email"] == user.email


def test_delete_is_for_admins(api: Api) -> None:
    """A user: 403; an admin: 204 without a body; then 404, and the user's token is dead."""
    victim, admin = api.new_user(), api.admin()
    assert api.get(user_path(victim.id), token=victim.access).status_code == 200  # cached
    assert api.delete(user_path(victim.id), token=victim.access).status_code == 403
    deleted = api.delete(user_path(victim.id), token=admin.access)
    assert deleted.status_code == 204
    assert deleted.content == b""
    gone = api.get(user_path(victim.id), token=admin.access)
    assert gone.status_code == 404
    assert api.get(ME, token=victim.access).status_code == 401
    assert api.delete(user_path(victim.id), token=admin.access).status_code == 404
    login = api.post(LOGIN, json_body={"email": victim.email, "password": victim.password})
    assert login.status_code == 401
