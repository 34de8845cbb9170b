"""Redis down from the start, refused or hung: credential limits hold, nothing tells a password.

Each example app runs under its real server (two workers) on a PostgreSQL database of its
own, with ``BACKENDKIT_REDIS_URL`` pointing at a port that refuses every connection
(``refused``) or at one that accepts and never answers (``hung``). Redis is never reachable
during the run, so the apps must start without it, and:

- registration works (it needs Redis only for its limit) and is still limited per address;
- a login charges its limits, then asks the token store, before it looks at the password:
  a right and a wrong password get the same answer (503, or 429 once limited), never a 401
  or a 200, and no more guesses are answered than the per-account limit allows;
- a refresh fails closed (503) for a correctly signed token, and is a 401 for a forged one;
- ``/health`` is 503 naming redis;
- every 503 and every 429 carries ``Retry-After``, and every request is answered before the
  client's own timeout ends (that timeout is the only clock here: no duration is asserted).

The credential rules use the ``local_fallback`` failure policy: while Redis is down, each
worker counts in its own memory, so a server with N workers answers up to N times a limit.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from examples._shared.config import (
    DEFAULT_JWT_AUDIENCE,
    DEFAULT_JWT_ISSUER,
    LOGIN_LIMIT_PER_ACCOUNT,
    REGISTER_LIMIT,
)
from tests._services import DEFAULT_POSTGRES_URL, DeadPort, HungServer, ServiceProbe
from tests.contract._api import Account, Api
from tests.contract._servers import APPS, RunningServer, example_server, postgres_database

from backendkit.auth import JWTKey, TokenService

_POSTGRES = ServiceProbe("PostgreSQL", "BACKENDKIT_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, 5432)

#: Two processes are enough to show that the local fallback counts per process.
WORKERS = 2
#: Every request must be answered within this many seconds (a hung Redis must never hang
#: a request: the connection layer's timeouts and breaker end the wait long before).
CLIENT_TIMEOUT = 10.0
#: The amounts of the credential rules (``"5/15 minutes"`` -> 5).
PER_ACCOUNT = int(LOGIN_LIMIT_PER_ACCOUNT.split("/")[0])
PER_ADDRESS_REGISTER = int(REGISTER_LIMIT.split("/")[0])
#: Wrong passwords sent on one account from one address before the right one.
WRONG_GUESSES = 15
#: Attempts on one account at most, while waiting for every worker to count its limit.
MAX_ATTEMPTS = 200

FAULTS = ("refused", "hung")
FAULT_PARAMS = [
    pytest.param(
        (app, fault), id=f"{app}-redis-{fault}", marks=[pytest.mark.postgres, pytest.mark.slow]
    )
    for app in APPS
    for fault in FAULTS
]


@dataclass
class FaultRun:
    """An example app serving while its Redis is unreachable."""

    server: RunningServer
    fault: str

    def client(self) -> _Client:
        """A client with an address of its own."""
        return _Client(self.server)


class _Client(Api):
    """``Api`` with a short timeout, and the 503 contract checked on every response."""

    def __init__(self, server: RunningServer) -> None:
        super().__init__(server)
        self.http.timeout = httpx.Timeout(CLIENT_TIMEOUT)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; fail if it is not answered within ``CLIENT_TIMEOUT``."""
        try:
            response = super().request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            pytest.fail(
                f"{self.server.name}: {method} {path} unanswered after {CLIENT_TIMEOUT} s "
                f"({type(exc).__name__})",
                pytrace=False,
            )
        if response.status_code in (429, 503):
            _assert_retry_after(response)
        return response


def _assert_retry_after(response: httpx.Response) -> None:
    value = response.headers.get("retry-after")
    assert value is not None, f"{response.status_code} without Retry-After"
    assert value.isdigit(), f"Retry-After {value!r} is not whole seconds"
    assert int(value) >= 1


def _code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


@pytest.fixture(scope="module", params=FAULT_PARAMS)
def down(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultRun]:
    """One example app, two workers, PostgreSQL, and Redis refused or hung from the start."""
    app, fault = request.param
    workdir = tmp_path_factory.mktemp(f"{app}-redis-{fault}")
    tag = secrets.token_hex(4)
    with contextlib.ExitStack() as stack:
        if fault == "refused":
            dead = DeadPort()
            stack.callback(dead.close)
            redis_url = dead.url
        else:
            hung = HungServer()
            stack.callback(hung.close)
            redis_url = hung.url
        database = stack.enter_context(
            postgres_database(_POSTGRES.require(), f"bkf_{app}_{fault}_{tag}")
        )
        extra = {
            "BACKENDKIT_DATABASE_URL": database,
            "BACKENDKIT_REDIS_URL": redis_url,
            "BACKENDKIT_REDIS_KEY_PREFIX": f"bkf:{tag}:",
        }
        # Started means answering /health at all (it raises if the app exits or never
        # answers with Redis unreachable); test_health_is_503_naming_redis asserts which.
        running = stack.enter_context(
            example_server(
                app,
                f"redis-{fault}",
                workdir=workdir,
                workers=WORKERS,
                extra_env=extra,
                ready_statuses=frozenset({200, 503}),
            )
        )
        yield FaultRun(running, fault)


def _register(run: FaultRun) -> Account:
    """Register a user from an address of its own (201 while Redis is down)."""
    email = f"user-{secrets.token_hex(6)}@example.com"
    password = "pw-" + secrets.token_urlsafe(12)
    with run.client() as api:
        response = api.post(
            "/api/v1/auth/register",
            json_body={"email": email, "password": password, "name": "Outage User"},
        )
    assert response.status_code == 201, response.text
    return Account(response.json()["data"]["id"], email, password)


def _login(api: Api, email: str, password: str) -> httpx.Response:
    response = api.post("/api/v1/auth/login", json_body={"email": email, "password": password})
    # Charged the limits, then asked the token store: never a verdict on the password.
    assert response.status_code in (429, 503), (response.status_code, response.text)
    assert (
        _code(response) == {429: "RATE_LIMITED", 503: "SERVICE_UNAVAILABLE"}[response.status_code]
    )
    return response


def test_health_is_503_naming_redis(down: FaultRun) -> None:
    """The app started with Redis unreachable; /health says redis is down, with Retry-After."""
    with down.client() as api:
        response = api.get("/health")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "redis" in [detail["field"] for detail in error["details"]]
    _assert_retry_after(response)


def test_register_works_and_is_limited_per_address(down: FaultRun) -> None:
    """Registration needs Redis only for its limit, which falls back to local counting."""
    statuses: list[int] = []
    with down.client() as api:
        # Each worker allows the limit on its own: the limit is certainly not reached
        # before the first PER_ADDRESS_REGISTER attempts, and certainly reached once
        # PER_ADDRESS_REGISTER * WORKERS have been accepted.
        for _ in range(PER_ADDRESS_REGISTER * WORKERS + 1):
            response = api.post(
                "/api/v1/auth/register",
                json_body={
                    "email": f"reg-{secrets.token_hex(6)}@example.com",
                    "password": "pw-" + secrets.token_urlsafe(12),
                    "name": "Outage User",
                },
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert _code(response) == "RATE_LIMITED"
                break
            assert response.status_code == 201, response.text
    assert statuses[:PER_ADDRESS_REGISTER] == [201] * PER_ADDRESS_REGISTER
    assert statuses[-1] == 429, f"{len(statuses)} registrations from one address, none limited"
    # The valid twin: another address still registers.
    _register(down)


@pytest.mark.parametrize("whose", ["admin", "registered"])
def test_login_answers_alike_for_right_and_wrong_passwords(down: FaultRun, whose: str) -> None:
    """15 wrong passwords and the right one, from one address on one account.

    Every answer is a 503 (the token store is down) or a 429 (the credential limits, counted
    locally), never a 401 or a 200; no more attempts are answered than the per-account
    limit allows; and the right password gets what a wrong one got just before it, at two
    points where every worker answers alike: first (both 503) and once every worker has
    counted its limit (both 429).
    """
    account = (
        Account(0, down.server.admin_email, down.server.admin_password)
        if whose == "admin"
        else _register(down)
    )
    # local_fallback counts per process: each of the WORKERS allows PER_ACCOUNT attempts
    # on this (address, account), so the server as a whole allows PER_ACCOUNT * WORKERS.
    budget = PER_ACCOUNT * WORKERS
    answers: list[tuple[str, httpx.Response]] = []
    with down.client() as api:

        def guess(kind: str) -> httpx.Response:
            password = account.password if kind == "right" else "wrong-" + secrets.token_hex(8)
            response = _login(api, account.email, password)
            answers.append((kind, response))
            return response

        # At the start no worker can have counted PER_ACCOUNT attempts yet: a wrong and
        # then the right password both reach the token store check, both 503.
        first_wrong, first_right = guess("wrong"), guess("right")
        assert (first_wrong.status_code, _code(first_wrong)) == (503, "SERVICE_UNAVAILABLE")
        assert (first_right.status_code, _code(first_right)) == (503, "SERVICE_UNAVAILABLE")
        while sum(kind == "wrong" for kind, _ in answers) < WRONG_GUESSES:
            guess("wrong")
        # Which worker answers is the kernel's choice, so after the wrong guesses one worker
        # may still have budget left. Once ``budget`` attempts were answered without a 429,
        # every worker has counted its PER_ACCOUNT and the server as a whole says 429.
        # Until then, keep guessing (each answered guess spends one of at most ``budget``).
        # The kernel may hand a run of connections to one worker, so the bound is generous
        # (a refused or limited attempt is cheap); it only stops a test that would spin.
        while _answered(answers) < budget and len(answers) < MAX_ATTEMPTS:
            guess("wrong")
        assert _answered(answers) == budget, (
            f"{_answered(answers)} of {len(answers)} attempts answered without a 429 (the "
            f"workers share {budget}): {[response.status_code for _, response in answers]}"
        )
        last_wrong, last_right = guess("wrong"), guess("right")
    assert (last_wrong.status_code, _code(last_wrong)) == (429, "RATE_LIMITED")
    assert (last_right.status_code, _code(last_right)) == (429, "RATE_LIMITED")
    assert _answered(answers) <= budget


def _answered(answers: list[tuple[str, httpx.Response]]) -> int:
    return sum(response.status_code != 429 for _, response in answers)


def _refresh_token(run: FaultRun, account: Account, secret: str) -> str:
    """A refresh token for ``account`` signed with ``secret``, with the app's iss and aud."""
    app = run.server.app
    tokens = TokenService(
        JWTKey.hmac(secret),
        issuer=DEFAULT_JWT_ISSUER.format(app=app),
        audience=DEFAULT_JWT_AUDIENCE.format(app=app),
        store="memory://",
    )
    return tokens.issue_pair(str(account.id), claims={"roles": ["user"]}).refresh_token


def test_refresh_fails_closed(down: FaultRun) -> None:
    """A correctly signed refresh token is a 503 (never rotated unchecked), a forged one 401."""
    account = _register(down)
    signed = _refresh_token(down, account, down.server.env["BACKENDKIT_JWT_SECRET"])
    forged = _refresh_token(down, account, secrets.token_urlsafe(32))
    down.server.secrets.tokens.update({signed, forged})
    with down.client() as api:
        answer = api.post("/api/v1/auth/refresh", json_body={"refreshToken": signed})
        assert answer.status_code == 503, answer.text
        assert _code(answer) == "SERVICE_UNAVAILABLE"
        # The twin: a token the server did not sign is refused before the store is asked.
        refused = api.post("/api/v1/auth/refresh", json_body={"refreshToken": forged})
        assert refused.status_code == 401, refused.text
        assert _code(refused) == "INVALID_TOKEN"
        malformed = api.post("/api/v1/auth/refresh", json_body={"refreshToken": "not-a-jwt"})
        assert malformed.status_code == 401, malformed.text
