"""Wire-level contract: error envelopes of framework-native errors, request ids, limits, health."""

from __future__ import annotations

import json

from tests.contract._api import Api
from tests.contract._servers import RunningServer

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


def test_route_misses_and_wrong_methods_are_enveloped(api: Api) -> None:
    """Unknown paths: 404 NOT_FOUND; a wrong method: 405 METHOD_NOT_ALLOWED with Allow."""
    for path in ("/api/v1/nope", "/nope", "/api/v2/users"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "NOT_FOUND"
    wrong = api.delete(LOGIN)
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in wrong.headers["allow"]


def test_bad_bodies_are_enveloped(api: Api) -> None:
    """Malformed JSON 400, deep nesting 400, wrong media type 415, too large 413."""
    malformed = api.post(LOGIN, content=b'{"email": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "BAD_REQUEST"
    deep = api.post(
        LOGIN, content=b"[" * 5000 + b"]" * 5000, headers={"Content-Type": "application/json"}
    )
    assert deep.status_code == 400
    assert deep.json()["error"]["code"] == "BAD_REQUEST"
    form = api.post(LOGIN, content=b"email=a&password=b", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    assert form.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    huge = api.post(
        LOGIN,
        content=json.dumps({"email": "a@example.com", "password": "x" * 2_000_000}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    empty = api.post(LOGIN, content=b"", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400


def test_request_ids_are_echoed_when_safe_and_replaced_when_not(api: Api) -> None:
    """A safe X-Request-ID comes back as sent (also in error bodies); a hostile one does not."""
    safe = api.get(ME, headers={"X-Request-ID": "abc-123_DEF"})
    assert safe.headers["x-request-id"] == "abc-123_DEF"
    assert safe.json()["error"]["requestId"] == "abc-123_DEF"
    for hostile in ("x" * 500, "<script>", "a b", "id\u00e9"):
        response = api.get(ME, headers={"X-Request-ID": hostile.encode("utf-8")})
        assert response.headers["x-request-id"] != hostile
    ids = {api.get("/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_api_routes_carry_rate_limit_headers_and_health_does_not(api: Api) -> None:
    """Every /api/ response counts against the default budget; /health is never limited."""
    first = api.get(ME)
    second = api.get(ME)
    assert first.headers["ratelimit-limit"] == "100"
    assert (
        int(second.headers["ratelimit-remaining"]) == int(first.headers["ratelimit-remaining"]) - 1
    )
    assert int(first.headers["ratelimit-reset"]) > 0
    health = api.get("/health")
    assert "ratelimit-limit" not in health.headers


def test_the_default_budget_allows_exactly_its_limit(api: Api) -> None:
    """100 requests per 15 minutes per client address: the 101st is a 429; others are free."""
    statuses = [api.get(ME).status_code for _ in range(101)]
    assert statuses[:100] == [401] * 100
    assert statuses[100] == 429
    limited = api.get(ME)
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    # Sliding window counter: the budget frees up soon after the next aligned 15-minute
    # boundary (once the previous window's weight has decayed by one request), so the wait
    # is anywhere up to 15 minutes plus a hundredth of the window, depending on the clock.
    assert 1 <= int(limited.headers["retry-after"]) <= 15 * 60 + 9
    with Api(api.server) as other:
        assert other.get(ME).status_code == 401
    assert api.get("/health").status_code == 200


def test_health_reports_each_dependency(api: Api, server: RunningServer) -> None:
    """200 with the database (and Redis, when configured) reported ok."""
    response = api.get("/health")
    assert response.status_code == 200
    checks = response.json()["data"]["checks"]
    expected = (
        {"database": "ok"} if server.backend == "embedded" else {"database": "ok", "redis": "ok"}
    )
    assert checks == expected
    assert api.post("/health").status_code == 405


def test_security_headers(api: Api) -> None:
    """nosniff everywhere; JSON with a charset; authenticated answers are not cached."""
    account = api.new_user()
    me = api.get(ME, token=account.access)
    assert me.headers["content-type"] == "application/json; charset=utf-8"
    assert me.headers["cache-control"] == "no-store"
    assert me.headers["x-content-type-options"] == "nosniff"
