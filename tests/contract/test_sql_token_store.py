"""``BACKENDKIT_TOKEN_STORE=sql`` with no Redis: sessions shared by two workers.

Each app runs under its real server with two workers on a PostgreSQL database of its own
and no ``BACKENDKIT_REDIS_URL``: refresh rotation, reuse detection, logout and API-key
revocation must hold whichever worker answers (each check is repeated, a new connection
per request, until both workers have answered it), since the only state the workers share
is the database.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from tests._services import DEFAULT_POSTGRES_URL, ServiceProbe
from tests.contract._api import Api
from tests.contract._servers import APPS, RunningServer, example_server, postgres_database
from tests.contract.test_api_keys import from_every_worker

_POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
KEYS = "/api/v1/auth/api-keys"
WORKERS = 2
#: Presentations of one refresh token.
ROUNDS = 12


@pytest.fixture(scope="module", params=APPS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One app, two workers, PostgreSQL, the SQL token store, no Redis."""
    app = request.param
    workdir = tmp_path_factory.mktemp(f"sql-store-{app}")
    name = f"bkc_sqlstore_{app}_{secrets.token_hex(4)}"
    with postgres_database(_POSTGRES.require(), name) as database:
        extra = {"BACKENDKIT_DATABASE_URL": database, "BACKENDKIT_TOKEN_STORE": "sql"}
        with example_server(
            app, "sql-store", workdir=workdir, workers=WORKERS, extra_env=extra
        ) as running:
            yield running


@pytest.fixture
def api(server: RunningServer) -> Iterator[Api]:
    """A checking client with an address of its own (a new connection per request)."""
    with Api(server) as client:
        yield client


def everywhere(server: RunningServer, method: str, path: str, **kwargs: Any) -> set[int]:
    """The statuses of one request repeated until every worker has answered it."""
    return from_every_worker(
        server, lambda client: client.request(method, path, **kwargs).status_code
    )


def test_the_server_runs_without_redis(server: RunningServer) -> None:
    """No Redis is configured, and both workers are up."""
    assert "BACKENDKIT_REDIS_URL" not in server.env
    assert len(server.worker_pids()) >= WORKERS


def test_refresh_rotates_and_reuse_ends_the_family_in_every_worker(api: Api) -> None:
    """The rotated pair works everywhere; the old refresh token again: 401, and then the
    whole family is refused by every worker; another session is untouched (the twin)."""
    account = api.new_user()
    other = api.login(api.register())
    first = api.post(REFRESH, json_body={"refreshToken": account.refresh})
    assert first.status_code == 200, first.text
    pair = first.json()["data"]
    assert everywhere(api.server, "GET", ME, token=pair["accessToken"]) == {200}
    reuse = api.post(REFRESH, json_body={"refreshToken": account.refresh})
    assert reuse.status_code == 401
    assert reuse.json()["error"]["code"] == "INVALID_TOKEN"
    assert everywhere(api.server, "GET", ME, token=pair["accessToken"]) == {401}
    assert api.post(REFRESH, json_body={"refreshToken": pair["refreshToken"]}).status_code == 401
    assert everywhere(api.server, "GET", ME, token=other.access) == {200}


def test_a_refresh_token_is_used_once_across_workers(api: Api) -> None:
    """The same refresh token sent to the server again and again: one 200, then 401s,
    whichever worker answers."""
    account = api.new_user()
    answers = [
        api.post(REFRESH, json_body={"refreshToken": account.refresh}).status_code
        for _ in range(ROUNDS)
    ]
    assert answers == [200] + [401] * (ROUNDS - 1)


def test_logout_is_seen_by_every_worker(api: Api) -> None:
    """After a logout, no worker accepts the access token, and the refresh token is dead;
    the user's other session still works everywhere (the valid twin)."""
    account = api.new_user()
    second = api.login(api.register())
    assert everywhere(api.server, "GET", ME, token=account.access) == {200}
    assert api.post(LOGOUT, token=account.access).status_code == 204
    assert everywhere(api.server, "GET", ME, token=account.access) == {401}
    assert api.post(REFRESH, json_body={"refreshToken": account.refresh}).status_code == 401
    assert everywhere(api.server, "GET", ME, token=second.access) == {200}


def test_a_revoked_api_key_is_refused_by_every_worker(api: Api) -> None:
    """An API key works in both workers, then right after its revocation in neither."""
    account = api.new_user()
    created = api.post(KEYS, token=account.access, json_body={"name": "ci"})
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    api.server.secrets.tokens.add(data["key"])
    assert everywhere(api.server, "GET", ME, headers={"X-API-Key": data["key"]}) == {200}
    assert api.delete(f"{KEYS}/{data['id']}", token=account.access).status_code == 204
    assert everywhere(api.server, "GET", ME, headers={"X-API-Key": data["key"]}) == {401}
