"""The request cycle: request ids, log context, response headers, one access-log event."""

from __future__ import annotations

import re

from backendkit.logging import bind_request_context, clear_request_context, get_request_context
from backendkit.testing import FakeClock, capture_logs
from backendkit.web import RequestCycle


def test_start_accepts_a_safe_id_and_binds_context() -> None:
    """A safe incoming id is kept and bound with method and path."""
    cycle = RequestCycle.start(method="GET", path="/x", request_id_header="req-1")
    try:
        assert cycle.request_id == "req-1"
        assert get_request_context() == {"request_id": "req-1", "method": "GET", "path": "/x"}
    finally:
        cycle.finish(200)
    assert get_request_context() == {}


def test_start_replaces_an_unsafe_id() -> None:
    """An id with unsafe characters is replaced by a fresh one."""
    cycle = RequestCycle.start(method="GET", path="/", request_id_header="a b\r\nc")
    cycle.finish(200)
    assert len(cycle.request_id) == 32
    assert " " not in cycle.request_id


def test_set_user_binds_and_marks_no_store() -> None:
    """Knowing the user adds it to the log context and makes the response no-store."""
    cycle = RequestCycle.start(method="GET", path="/", request_id_header=None)
    cycle.set_user("u-1")
    assert get_request_context()["user_id"] == "u-1"
    assert cycle.response_headers()["Cache-Control"] == "no-store"
    cycle.finish(200)


def test_response_headers() -> None:
    """Request id, nosniff and extra headers are added; headers the response set are kept."""
    cycle = RequestCycle(method="GET", path="/", request_id="r1")
    cycle.add_headers({"RateLimit-Limit": "5"})
    assert cycle.response_headers() == {
        "X-Request-ID": "r1",
        "RateLimit-Limit": "5",
        "X-Content-Type-Options": "nosniff",
    }
    cycle.mark_no_store()
    kept = cycle.response_headers(["cache-control", "X-CONTENT-TYPE-OPTIONS", "ratelimit-limit"])
    assert kept == {"X-Request-ID": "r1"}


def test_finish_logs_once_with_duration() -> None:
    """finish() logs one request_completed event with the fields; a second call is a no-op."""
    clock = FakeClock()
    cycle = RequestCycle.start(method="POST", path="/p", request_id_header="r2", clock=clock)
    cycle.set_user("u2")
    clock.advance(0.25)
    with capture_logs() as logs:
        cycle.finish(201)
        cycle.finish(500)
    assert logs == [
        {
            "event": "request_completed",
            "log_level": "info",
            "method": "POST",
            "path": "/p",
            "status": 201,
            "duration_ms": 250.0,
            "user_id": "u2",
            "request_id": "r2",
        }
    ]


def test_finish_without_status_uses_the_recorded_one_or_500() -> None:
    """A cycle whose response never started is logged as a 500."""
    first = RequestCycle(method="GET", path="/", request_id="a")
    first.status = 204
    second = RequestCycle(method="GET", path="/", request_id="b")
    with capture_logs() as logs:
        first.finish()
        second.finish()
    assert [e["status"] for e in logs] == [204, 500]


def test_asgi_headers_match_response_headers_encoded() -> None:
    """The ASGI form adds the same headers as response_headers, as lower-case bytes."""
    cycle = RequestCycle(method="GET", path="/", request_id="r1")
    cycle.add_headers({"RateLimit-Limit": "5"})
    raw = cycle.asgi_headers([(b"content-length", b"2")])
    assert raw == [
        (b"content-length", b"2"),
        (b"x-request-id", b"r1"),
        (b"ratelimit-limit", b"5"),
        (b"x-content-type-options", b"nosniff"),
    ]
    expected = {k.lower().encode(): v.encode() for k, v in cycle.response_headers().items()}
    assert dict(raw[1:]) == expected


def test_asgi_headers_replace_a_request_id_the_route_set() -> None:
    """One X-Request-ID, the cycle's (as Flask and Django answer); other headers are kept."""
    cycle = RequestCycle(method="GET", path="/", request_id="r1")
    raw = cycle.asgi_headers([(b"X-Request-ID", b"mine"), (b"x-custom", b"1")])
    assert [value for name, value in raw if name.lower() == b"x-request-id"] == [b"r1"]
    assert (b"x-custom", b"1") in raw


def test_asgi_headers_keep_what_the_response_set_and_state_the_json_charset() -> None:
    """A header the app set is not doubled; bare application/json gains its charset."""
    cycle = RequestCycle(method="GET", path="/", request_id="r1")
    cycle.add_headers({"RateLimit-Limit": "5"})
    cycle.mark_no_store()
    raw = cycle.asgi_headers(
        [
            (b"Content-Type", b"application/json"),
            (b"Cache-Control", b"max-age=60"),
            (b"X-Content-Type-Options", b"nosniff"),
            (b"ratelimit-limit", b"9"),
        ]
    )
    assert raw == [
        (b"Content-Type", b"application/json; charset=utf-8"),
        (b"Cache-Control", b"max-age=60"),
        (b"X-Content-Type-Options", b"nosniff"),
        (b"ratelimit-limit", b"9"),
        (b"x-request-id", b"r1"),
    ]
    # Another content type is left alone; no-store is added when nothing says otherwise.
    other = RequestCycle(method="GET", path="/", request_id="r2")
    other.mark_no_store()
    assert other.asgi_headers([(b"content-type", b"text/html")]) == [
        (b"content-type", b"text/html"),
        (b"x-request-id", b"r2"),
        (b"x-content-type-options", b"nosniff"),
        (b"cache-control", b"no-store"),
    ]


def test_start_without_a_header_creates_an_id_and_keeps_outer_context() -> None:
    """No incoming id: a fresh 32-hex id; fields bound before the request are kept."""
    bind_request_context(tenant="t1")
    try:
        cycle = RequestCycle.start(method="GET", path="/a", request_id_header=None)
        assert re.fullmatch(r"[0-9a-f]{32}", cycle.request_id)
        assert get_request_context() == {
            "tenant": "t1",
            "request_id": cycle.request_id,
            "method": "GET",
            "path": "/a",
        }
        cycle.finish(200)
    finally:
        clear_request_context()
