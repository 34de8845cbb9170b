"""Every shared error path and header case, run against every framework adapter.

Frameworks come from `APP_FACTORIES` in `_apps.py`; adding a factory there runs this whole
suite against another framework.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tests.adapters._apps import APP_FACTORIES, MAX_BODY, SECRET, Harness, Result

from backendkit.testing import capture_logs


@pytest.fixture(params=sorted(APP_FACTORIES))
def harness(request: pytest.FixtureRequest) -> Harness:
    return APP_FACTORIES[request.param]()


def assert_error(result: Result, status: int, code: str) -> dict[str, Any]:
    """The response is the error envelope with this status and code, and the request id."""
    assert result.status == status, result.body
    payload = result.json()
    assert payload["success"] is False
    assert payload["error"]["code"] == code
    request_id = result.header("X-Request-ID")
    assert request_id
    assert payload["error"]["requestId"] == request_id
    assert result.header("Content-Type") == "application/json; charset=utf-8"
    assert result.header("X-Content-Type-Options") == "nosniff"
    return payload["error"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- success twin


def test_success_carries_request_id_and_security_headers(harness: Harness) -> None:
    """A plain success response has the envelope, a request id, nosniff and a JSON charset."""
    result = harness.request("GET", "/ok")
    assert result.status == 200
    assert result.json() == {"success": True, "data": {"ok": True}, "message": None}
    assert result.header("X-Request-ID")
    assert result.header("X-Content-Type-Options") == "nosniff"
    assert result.header("Content-Type") == "application/json; charset=utf-8"
    assert result.header("Cache-Control") is None  # anonymous: caching is the route's call


def test_safe_incoming_request_id_is_echoed(harness: Harness) -> None:
    """A well-formed incoming X-Request-ID is kept and echoed, in headers and error bodies."""
    assert (
        harness.request("GET", "/ok", headers={"X-Request-ID": "abc-123"}).header("X-Request-ID")
        == "abc-123"
    )
    error = harness.request("GET", "/app-error", headers={"X-Request-ID": "abc-124"})
    assert assert_error(error, 409, "CONFLICT")["requestId"] == "abc-124"


def test_unsafe_incoming_request_id_is_replaced(harness: Harness) -> None:
    """An incoming id with characters unsafe for logs and headers is replaced by a new one."""
    result = harness.request("GET", "/ok", headers={"X-Request-ID": "bad id; drop=1"})
    assert result.header("X-Request-ID") not in (None, "bad id; drop=1")
    assert len(result.header("X-Request-ID") or "") == 32


# --------------------------------------------------------------------------- error paths


def test_app_error_is_enveloped(harness: Harness) -> None:
    """An AppError raised by a view keeps its status, code and message."""
    error = assert_error(harness.request("GET", "/app-error"), 409, "CONFLICT")
    assert error["message"] == "Widget already exists"


def test_route_404_is_enveloped(harness: Harness) -> None:
    """The framework's own route miss comes out as a NOT_FOUND envelope."""
    assert_error(harness.request("GET", "/no/such/route"), 404, "NOT_FOUND")


def test_405_is_enveloped_with_allow(harness: Harness) -> None:
    """A wrong method is METHOD_NOT_ALLOWED with an Allow header naming GET."""
    result = harness.request("DELETE", "/ok")
    assert_error(result, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in (result.header("Allow") or "")


def test_malformed_json_is_bad_request(harness: Harness) -> None:
    """Truncated JSON is a 400 BAD_REQUEST."""
    result = harness.request(
        "POST", "/echo", headers={"Content-Type": "application/json"}, body=b'{"name":'
    )
    assert_error(result, 400, "BAD_REQUEST")


def test_deeply_nested_json_is_bad_request_not_500(harness: Harness) -> None:
    """Nesting that would be a RecursionError in stdlib-based parsers is a 400."""
    body = b"[" * (MAX_BODY - 10)
    result = harness.request(
        "POST", "/echo", headers={"Content-Type": "application/json"}, body=body
    )
    assert_error(result, 400, "BAD_REQUEST")


def test_wrong_content_type_is_415(harness: Harness) -> None:
    """A body that is not JSON is UNSUPPORTED_MEDIA_TYPE."""
    result = harness.request(
        "POST", "/echo", headers={"Content-Type": "text/plain"}, body=b'{"name": "a"}'
    )
    assert_error(result, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_suffix_content_type_is_accepted(harness: Harness) -> None:
    """The valid twin of 415: an application/*+json body is read."""
    result = harness.request(
        "POST",
        "/echo",
        headers={"Content-Type": "application/merge-patch+json; charset=utf-8"},
        body=b'{"name": "a"}',
    )
    assert result.status == 200


def test_oversized_body_is_413(harness: Harness) -> None:
    """A body over the configured cap is PAYLOAD_TOO_LARGE."""
    result = harness.request("POST", "/echo", json={"name": "x" * (MAX_BODY + 1)})
    assert_error(result, 413, "PAYLOAD_TOO_LARGE")


def test_body_just_under_the_cap_is_read(harness: Harness) -> None:
    """The valid twin of 413: a body of exactly the cap is accepted."""
    overhead = len(b'{"name": ""}')
    result = harness.request("POST", "/echo", json={"name": "x" * (MAX_BODY - overhead)})
    assert result.status == 200
    assert result.json()["data"]["count"] == 1


def test_validation_error_lists_fields_without_echoing_input(harness: Harness) -> None:
    """Invalid fields are VALIDATION_ERROR with one detail each; submitted values never appear."""
    result = harness.request("POST", "/echo", json={"name": 5, "count": "SENTINEL-VALUE"})
    error = assert_error(result, 400, "VALIDATION_ERROR")
    assert {d["field"] for d in error["details"]} == {"name", "count"}
    assert b"SENTINEL-VALUE" not in result.body


def test_framework_validation_error_is_enveloped(harness: Harness) -> None:
    """The framework's own input error (path converter, missing key) is a 400 envelope."""
    method, path, headers, body = harness.native_validation
    result = harness.request(method, path, headers=headers, body=body)
    assert_error(result, 400, harness.native_validation_code)


def test_valid_body_is_echoed(harness: Harness) -> None:
    """The valid twin of the body errors: a good body is parsed, validated and returned."""
    result = harness.request("POST", "/echo", json={"name": "Ada", "count": 2})
    assert result.status == 200
    assert result.json()["data"] == {"name": "Ada", "count": 2}


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "UNAUTHENTICATED"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "UNAUTHENTICATED"),
        ({"Authorization": "Bearer"}, "UNAUTHENTICATED"),
        ({"Authorization": "Bearer not a token"}, "UNAUTHENTICATED"),
        ({"Authorization": "Bearer abc.def.ghi"}, "INVALID_TOKEN"),
    ],
)
def test_auth_failures_are_401_with_www_authenticate(
    harness: Harness, headers: dict[str, str], code: str
) -> None:
    """Missing, malformed or invalid credentials are 401 with WWW-Authenticate: Bearer."""
    result = harness.request("GET", "/me", headers=headers)
    assert_error(result, 401, code)
    assert (result.header("WWW-Authenticate") or "").startswith("Bearer")


def test_valid_token_authenticates_and_is_no_store(harness: Harness) -> None:
    """The valid twin of 401: a good token reaches the view; the response is no-store."""
    result = harness.request("GET", "/me", headers=bearer(harness.token("user-7")))
    assert result.status == 200
    assert result.json()["data"] == {"id": "user-7"}
    assert result.header("Cache-Control") == "no-store"


def test_missing_role_is_403(harness: Harness) -> None:
    """An authenticated user without the role gets FORBIDDEN."""
    result = harness.request("GET", "/admin", headers=bearer(harness.token("user-1")))
    assert_error(result, 403, "FORBIDDEN")


def test_role_holder_passes(harness: Harness) -> None:
    """The valid twin of 403: the role holder gets through."""
    result = harness.request("GET", "/admin", headers=bearer(harness.token("a", ("admin",))))
    assert result.status == 200


def test_role_check_without_credentials_is_401(harness: Harness) -> None:
    """A role requirement still answers 401 (not 403) when no credentials were sent."""
    assert_error(harness.request("GET", "/admin"), 401, "UNAUTHENTICATED")


# --------------------------------------------------------------------------- rate limits


def test_rate_limit_headers_and_429(harness: Harness) -> None:
    """Allowed hits carry RateLimit headers; the first denied hit is 429 with Retry-After."""
    for remaining in ("1", "0"):
        result = harness.request("GET", "/limited")
        assert result.status == 200
        assert result.header("RateLimit-Limit") == "2"
        assert result.header("RateLimit-Remaining") == remaining
    denied = harness.request("GET", "/limited")
    assert_error(denied, 429, "RATE_LIMITED")
    assert int(denied.header("Retry-After") or "0") >= 1
    assert denied.header("RateLimit-Limit") == "2"
    assert denied.header("RateLimit-Remaining") == "0"


def test_two_rules_show_the_most_restrictive_charged_second(harness: Harness) -> None:
    """A second rule with less left decides the headers, though the first was charged first."""
    for remaining in ("1", "0"):
        result = harness.request("GET", "/limited-twice")
        assert result.status == 200
        assert result.header("RateLimit-Limit") == "2"  # "2/hour", not "3/minute"
        assert result.header("RateLimit-Remaining") == remaining
        assert 0 <= int(result.header("RateLimit-Reset") or "-1") <= 3600  # within the hour
    denied = harness.request("GET", "/limited-twice")
    assert_error(denied, 429, "RATE_LIMITED")
    assert denied.header("RateLimit-Limit") == "2"  # the rule that denied
    assert denied.header("RateLimit-Remaining") == "0"
    assert int(denied.header("Retry-After") or "0") > 60


def test_two_rules_show_the_most_restrictive_charged_first(harness: Harness) -> None:
    """The twin: a looser second rule does not hide the first rule's running-out budget."""
    for remaining in ("1", "0"):
        result = harness.request("GET", "/limited-loose")
        assert result.status == 200
        assert result.header("RateLimit-Limit") == "2"  # "2/minute", not "50/hour"
        assert result.header("RateLimit-Remaining") == remaining
    denied = harness.request("GET", "/limited-loose")
    assert_error(denied, 429, "RATE_LIMITED")
    assert denied.header("RateLimit-Limit") == "2"
    assert 1 <= int(denied.header("Retry-After") or "0") <= 120  # sliding window: two at most


# --------------------------------------------------------------------------- pagination


def test_page_params_are_read(harness: Harness) -> None:
    """page and perPage come from the query string."""
    result = harness.request("GET", "/items?page=3&perPage=7")
    assert result.json()["data"] == {"page": 3, "perPage": 7}


@pytest.mark.parametrize(
    "query", ["page=0", "page=abc", "perPage=0", "perPage=101", "page=1&page=2"]
)
def test_bad_page_params_are_400(harness: Harness, query: str) -> None:
    """Out-of-range, non-numeric or repeated page parameters are VALIDATION_ERROR."""
    assert_error(harness.request("GET", f"/items?{query}"), 400, "VALIDATION_ERROR")


# --------------------------------------------------------------------------- 500s and logs


def test_unhandled_exception_is_generic_500_with_traceback_in_logs(harness: Harness) -> None:
    """An unexpected error is a generic 500; the traceback and request id go to the log only."""
    with capture_logs() as logs:
        result = harness.request("GET", "/boom", headers={"X-Request-ID": "boom-1"})
    error = assert_error(result, 500, "INTERNAL_ERROR")
    assert error["message"] == "An unexpected error occurred"
    assert error["requestId"] == "boom-1"
    assert SECRET.encode() not in result.body
    assert b"Traceback" not in result.body
    logged = [e for e in logs if e["event"] == "unhandled_exception"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == "boom-1"
    assert isinstance(logged[0]["exc_info"], RuntimeError)
    assert SECRET in str(logged[0]["exc_info"])


def test_one_access_log_event_per_request(harness: Harness) -> None:
    """Each request logs exactly one request_completed event with its fields."""
    token = harness.token("user-9")
    with capture_logs() as logs:
        harness.request("GET", "/me", headers={**bearer(token), "X-Request-ID": "acc-1"})
        harness.request("GET", "/no/such/route", headers={"X-Request-ID": "acc-2"})
    events = [e for e in logs if e["event"] == "request_completed"]
    assert [e["request_id"] for e in events] == ["acc-1", "acc-2"]
    first, second = events
    assert (first["method"], first["path"], first["status"], first["user_id"]) == (
        "GET",
        "/me",
        200,
        "user-9",
    )
    assert (second["status"], second["user_id"]) == (404, None)
    assert first["duration_ms"] >= 0


def test_no_context_leaks_between_concurrent_requests(harness: Harness) -> None:
    """Two overlapping requests each see only their own request id in the log context."""
    harness.probe.barrier = threading.Barrier(2, timeout=10)
    results: dict[str, Result] = {}

    def call(request_id: str) -> None:
        results[request_id] = harness.request("GET", "/ctx", headers={"X-Request-ID": request_id})

    threads = [threading.Thread(target=call, args=(rid,)) for rid in ("ctx-a", "ctx-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    harness.probe.barrier = None
    for request_id in ("ctx-a", "ctx-b"):
        assert results[request_id].status == 200
        assert results[request_id].json()["data"]["requestId"] == request_id
    # And nothing is left bound once the requests are over.
    after = harness.request("GET", "/ctx")
    assert after.json()["data"]["requestId"] == after.header("X-Request-ID")
