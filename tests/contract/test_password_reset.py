"""Password reset: 202 whatever the email, the token from the development log line, confirm
ends every session; bad tokens 400; production without a sender 503 and nothing logged.

The servers of the suite run with ``BACKENDKIT_ENV=test``, where the example apps hand the
token to backendkit's logging sender (event ``one_time_token_issued``, field ``code``): the
tests read it from the server log, as a developer would. An expired token is made by
moving the record's expiry into the past in the app's own store (its database, or its
private Redis), since the server's clock cannot be moved.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from tests.contract._api import Account, Api, secret_like
from tests.contract._servers import APPS, RunningServer, example_server

from backendkit.errors import ERROR_CATALOGUE

RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
ISSUED = "one_time_token_issued"
PURPOSE = "password_reset"
NEW_PASSWORD = "a-new-long-passphrase"
#: Error codes may appear in a log event's ``code`` field; a token never may.
CODES = frozenset(ERROR_CATALOGUE)


def log_events(server: RunningServer) -> list[dict[str, Any]]:
    """The JSON events of the server log so far (other lines are skipped)."""
    events = []
    for line in server.log_text().splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


def issued_for(server: RunningServer, email: str) -> list[str]:
    """The reset tokens the logging sender wrote for ``email``, oldest first."""
    return [
        str(e["code"])
        for e in log_events(server)
        if e.get("event") == ISSUED and e.get("email") == email and e.get("purpose") == PURPOSE
    ]


def request_token(api: Api, email: str) -> str:
    """Ask for a reset (202) and read the new token from the log (written before the 202;
    waited for a little all the same)."""
    before = len(issued_for(api.server, email))
    assert api.post(RESET, json_body={"email": email}).status_code == 202
    deadline = time.monotonic() + 10
    while len(tokens := issued_for(api.server, email)) == before:
        assert time.monotonic() < deadline, f"no {ISSUED} event for the account"
        time.sleep(0.05)
    return tokens[-1]


def confirm(api: Api, token: str, password: str = NEW_PASSWORD) -> Any:
    """POST the confirmation; the token must never come back in the answer."""
    response = api.post(CONFIRM, json_body={"token": token, "password": password})
    if secret_like(token):
        assert token not in response.text
    return response


def assert_bad_token(response: Any) -> None:
    """400 BAD_REQUEST with a field error on ``token``."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST"
    assert [detail["field"] for detail in error["details"]] == ["token"]


def expire_tokens(server: RunningServer, email: str) -> int:
    """Move the expiry of ``email``'s outstanding reset tokens into the past, in whichever
    store the app keeps them; the number of records changed."""
    past = time.time() - 60
    if server.redis is not None:
        import redis

        client = redis.Redis.from_url(server.redis.url)  # type: ignore[attr-defined]
        changed = 0
        try:
            for key in client.scan_iter(count=500):
                if client.type(key) != b"string":
                    continue
                with contextlib.suppress(ValueError, UnicodeDecodeError, TypeError):
                    record = json.loads(client.get(key) or b"")
                    if isinstance(record, dict) and (record.get("e"), record.get("p")) == (
                        email,
                        PURPOSE,
                    ):
                        record["x"] = past
                        client.set(key, json.dumps(record), keepttl=True)
                        changed += 1
        finally:
            client.close()
        if changed:
            return changed
    url = sa.make_url(server.env["BACKENDKIT_DATABASE_URL"])
    driver = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}
    engine = sa.create_engine(url.set(drivername=driver.get(url.drivername, url.drivername)))
    try:
        with engine.begin() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            for table in ("bk_one_time_tokens", "bk_dj_one_time_tokens"):
                if table in tables:
                    statement = sa.text(
                        f"UPDATE {table} SET expires_at = :past "  # two fixed names
                        "WHERE email = :email AND purpose = :purpose"
                    )
                    done = conn.execute(
                        statement, {"past": past, "email": email, "purpose": PURPOSE}
                    )
                    return int(done.rowcount)
    finally:
        engine.dispose()
    return 0


def two_sessions(api: Api) -> tuple[Account, Account]:
    """One account logged in twice (two sessions, each with its own pair)."""
    first = api.new_user()
    second = api.login(Account(first.id, first.email, first.password))
    return first, second


# ---------------------------------------------------------------------------- the request


def test_the_request_answers_the_same_whatever_the_email(api: Api) -> None:
    """Known, unknown, differently cased and malformed-but-string emails: the same 202 body
    (but the request id); a token is issued for the known account only."""
    account = api.register()
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    bodies = []
    for email in (account.email, unknown, account.email.upper(), "not an email"):
        response = api.post(RESET, json_body={"email": email})
        assert response.status_code == 202, (email, response.text)
        bodies.append(response.json())
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["success"] is True
    assert issued_for(api.server, unknown) == []
    assert len(issued_for(api.server, account.email)) >= 1


def test_the_request_refuses_a_body_without_an_email_string(api: Api) -> None:
    """No email, or not a string: 400 VALIDATION_ERROR on ``email`` (twin: the test above)."""
    for body in ({}, {"email": 7}, {"email": ["a@example.com"]}):
        response = api.post(RESET, json_body=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert "email" in {detail["field"] for detail in response.json()["error"]["details"]}


def burst(server: RunningServer, window: float, emails: Callable[[], list[str]]) -> list[Any]:
    """Reset requests for ``emails()`` from one new address, inside one window of the
    limit. The windows are aligned to the clock, and a burst that straddles a boundary is
    legitimately allowed more (the sliding-window counter weighs the previous window a
    little less): such a burst is sent again, from another address for other emails."""
    for _ in range(3):
        with Api(server) as client:
            began = time.time()
            answers = [client.post(RESET, json_body={"email": e}) for e in emails()]
            if began // window == time.time() // window:
                return answers
    raise AssertionError("three bursts in a row straddled a window boundary")


def test_the_request_is_limited_per_email(api: Api) -> None:
    """Five requests for one email, then 429 with Retry-After; another email from another
    address is still answered."""

    def one_email() -> list[str]:
        return [f"flood-{secrets.token_hex(4)}@example.com"] * 6

    answers = burst(api.server, 15 * 60, one_email)
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    fresh = f"fresh-{secrets.token_hex(4)}@example.com"
    assert api.post(RESET, json_body={"email": fresh}).status_code == 202


def test_the_request_is_limited_per_address(api: Api) -> None:
    """Ten requests from one address (ten emails), then 429; another address goes on."""

    def eleven_emails() -> list[str]:
        return [f"a{n}-{secrets.token_hex(3)}@example.com" for n in range(11)]

    answers = burst(api.server, 60, eleven_emails)
    assert [a.status_code for a in answers] == [202] * 10 + [429]
    email = f"other-{secrets.token_hex(4)}@example.com"
    assert api.post(RESET, json_body={"email": email}).status_code == 202


# ---------------------------------------------------------------------------- the confirmation


def test_confirm_sets_the_password_and_ends_every_session(api: Api) -> None:
    """204; the old password is refused and the new one logs in; both sessions' access and
    refresh tokens are refused; the token works once."""
    first, second = two_sessions(api)
    token = request_token(api, first.email)
    assert api.get(ME, token=first.access).status_code == 200
    response = confirm(api, token)
    assert response.status_code == 204
    old = api.post(LOGIN, json_body={"email": first.email, "password": first.password})
    assert old.status_code == 401
    for session in (first, second):
        assert api.get(ME, token=session.access).status_code == 401
        refreshed = api.post(REFRESH, json_body={"refreshToken": session.refresh})
        assert refreshed.status_code == 401
    first.password = NEW_PASSWORD
    assert api.get(ME, token=api.login(first).access).json()["data"]["id"] == first.id
    assert_bad_token(confirm(api, token, "yet-another-passphrase"))  # used already


def test_a_new_token_replaces_nothing_until_used(api: Api) -> None:
    """Two requests: either token resets; after a reset the other one is refused too."""
    account = api.register()
    older, newer = request_token(api, account.email), request_token(api, account.email)
    assert older != newer
    assert confirm(api, newer).status_code == 204
    assert_bad_token(confirm(api, older, "another-long-passphrase"))


def test_a_weak_password_is_refused_and_the_token_kept(api: Api) -> None:
    """A password the policy refuses: 400 VALIDATION_ERROR on ``password``, and the token
    still works for a good one (the valid twin)."""
    account = api.register()
    token = request_token(api, account.email)
    weak = confirm(api, token, "short")
    assert weak.status_code == 400, weak.text
    error = weak.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "password" in {detail["field"] for detail in error["details"]}
    assert confirm(api, token).status_code == 204


def test_garbage_and_wrong_purpose_tokens_are_a_400(api: Api) -> None:
    """Garbage, empty, huge, a changed byte, the app's own access and refresh tokens: 400
    on ``token``; the real token then resets (the valid twin)."""
    account = api.new_user()
    token = request_token(api, account.email)
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in ("garbage", "", "x" * 5000, changed, account.access, account.refresh):
        assert_bad_token(confirm(api, bad))
    assert confirm(api, token).status_code == 204


def test_a_token_not_a_string_is_a_validation_error(api: Api) -> None:
    """A token that is no string: 400 naming ``token`` (twin: the test above)."""
    for value in (None, 7, ["x"]):
        response = api.post(CONFIRM, json_body={"token": value, "password": NEW_PASSWORD})
        assert response.status_code == 400, response.text
        assert "token" in {d["field"] for d in response.json()["error"]["details"]}


def test_an_expired_token_is_a_400(api: Api) -> None:
    """A token past its lifetime: 400 on ``token``; a fresh one resets (the valid twin)."""
    account = api.register()
    token = request_token(api, account.email)
    assert expire_tokens(api.server, account.email) >= 1
    assert_bad_token(confirm(api, token))
    assert confirm(api, request_token(api, account.email)).status_code == 204


# ---------------------------------------------------------------------------- production


@pytest.fixture(scope="module", params=APPS)
def production(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """One example app in production with no reset sender configured (SQLite, one worker)."""
    workdir = tmp_path_factory.mktemp(f"reset-production-{request.param}")
    extra = {
        "BACKENDKIT_ENV": "production",
        "BACKENDKIT_TESTING_FAST_HASHER": "0",  # honoured in the test environment only
        "BACKENDKIT_DATABASE_URL": f"sqlite:///{workdir / 'app.db'}",
    }
    with example_server(
        request.param, "production", workdir=workdir, workers=1, extra_env=extra
    ) as running:
        yield running


@pytest.mark.slow
def test_production_without_a_sender_is_503_and_logs_no_token(production: RunningServer) -> None:
    """Both routes: 503 "password reset is not configured"; a warning at start; no token in
    any log line. The rest of the app works (the valid twin: the admin logs in)."""
    with Api(production) as api:
        admin = api.admin()
        for path, body in (
            (RESET, {"email": admin.email}),
            (CONFIRM, {"token": "x" * 43, "password": NEW_PASSWORD}),
        ):
            response = api.post(path, json_body=body)
            assert response.status_code == 503, response.text
            error = response.json()["error"]
            assert error["code"] == "SERVICE_UNAVAILABLE"
            assert "password reset is not configured" in error["message"].lower()
        assert api.get(ME, token=admin.access).status_code == 200
    events = log_events(production)
    assert not [
        e
        for e in events
        if e.get("event") == ISSUED or (isinstance(e.get("code"), str) and e["code"] not in CODES)
    ]
    warnings = [e for e in events if str(e.get("level", "")).lower().startswith("warn")]
    assert any("reset" in json.dumps(e).lower() for e in warnings), "no start-up warning"
