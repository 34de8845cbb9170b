"""The conformance suite: one table of scenarios, run against every framework adapter.

Every adapter (FastAPI, Flask, Django, DRF) serves the same app, generated from the
declarative `SPEC` in `_spec.py`; each row of `SCENARIOS` is one request and what must come
back (status, envelope, error code, message, detail fields, headers required and absent),
asserted identically for every framework. Where a framework forces a different answer the
row says so in `differs`, naming the framework, the reason and the alternative
expectation; the list is in *Architecture → Differences between frameworks*.

Frameworks come from `APP_FACTORIES` in `_apps.py`; adding a factory there runs the whole
table against another framework. Behaviour a single row cannot express (the access log,
concurrent requests, the traceback in the log) has its own tests at the end.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from tests.adapters._apps import (
    APP_FACTORIES,
    PROFILES,
    Harness,
    Result,
    conformance_harness,
)
from tests.adapters._spec import (
    ETAG_CACHE_CONTROL,
    ETAG_DATA,
    MAX_BODY,
    SECRET,
    SPEC,
)

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import AppError
from backendkit.responses import render_json, success
from backendkit.testing import FakeClock, capture_logs
from backendkit.web import etag_for


def _subclasses(cls: type[AppError]) -> list[type[AppError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    # A subclass with the code of its parent keeps the parent's message (listed first).
    return sorted({c.code: c for c in reversed(found)}.values(), key=lambda c: c.code)


ROOT = Path(__file__).resolve().parents[2]
_NO_JSON = object()
_ANY = object()
#: The strong ETag of `/etag`'s envelope, as every framework computes it.
ETAG = etag_for(render_json(success(ETAG_DATA)))
#: The message of an integer that does not parse (pydantic's, in every framework).
NOT_AN_INT = "Input should be a valid integer, unable to parse string as an integer"
CSRF = "csrf-token-value"
MALFORMED_AUTHORIZATION = "The Authorization header must be 'Bearer <token>'"
#: Each code's default message: what an error answers unless the row names another.
CATALOGUE = {cls.code: cls.default_message for cls in _subclasses(AppError)}


@dataclass(frozen=True)
class Difference:
    """Where a framework forces another answer: why, and what it answers instead."""

    reason: str
    overrides: Mapping[str, Any]


def differ(reason: str, **overrides: Any) -> Difference:
    """A named difference: ``overrides`` replace fields of the row's expectation."""
    return Difference(reason, overrides)


@dataclass(frozen=True)
class Scenario:
    """One row: a request, and what every framework must answer to it."""

    name: str
    method: str
    path: str
    status: int
    code: str | None = None  # None: a success (or a bodiless 304)
    profile: str = "plain"  # the kit: see `PROFILES` in _apps.py
    send: Mapping[str, str] = field(default_factory=dict)  # request headers
    credentials: str | None = None  # see `_credentials`
    body: bytes | None = None
    json: Any = _NO_JSON
    repeat: int = 0  # the same request sent this many times first (limits)
    data: Any = _ANY  # the expected `data` of a success envelope
    message: Any = None  # None: the catalogue's message for the code; _ANY: not checked
    fields: Any = None  # the detail fields, in order; None: none, except for VALIDATION_ERROR
    headers: Mapping[str, str | re.Pattern[str]] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    check: Callable[[Result], None] | None = None  # anything more, e.g. on the body
    setup: Callable[[Harness], None] | None = None  # before the request, e.g. a failing probe
    differs: Mapping[str, Difference] = field(default_factory=dict)

    def for_framework(self, framework: str) -> Scenario:
        """The row as ``framework`` must answer it (with its named difference, if any)."""
        difference = self.differs.get(framework)
        return self if difference is None else replace(self, **difference.overrides)


def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


BEARER = {"WWW-Authenticate": _pattern(r"Bearer.*")}
LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def _no_echo(text: bytes) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert text not in result.body

    return check


def _generic_500(result: Result) -> None:
    assert SECRET.encode() not in result.body
    assert b"Traceback" not in result.body


def _fresh_request_id(result: Result) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", result.header("X-Request-ID") or "")


def _allow(method: str) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert method in (result.header("Allow") or "")

    return check


def _retry_after(low: int, high: int) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert low <= int(result.header("Retry-After") or "-1") <= high

    return check


def _reset_within(seconds: int) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert 0 <= int(result.header("RateLimit-Reset") or "-1") <= seconds

    return check


def _streamed_request_id(result: Result) -> None:
    # The body was written chunk by chunk while the request's log context was still bound.
    assert result.json() == {"requestId": result.header("X-Request-ID")}


def _unhealthy(harness: Harness) -> None:
    harness.probe.healthy = False


def _bodiless(result: Result) -> None:
    assert result.body == b""


SCENARIOS: tuple[Scenario, ...] = (
    # --------------------------------------------------------------- envelope and request ids
    Scenario(
        "success envelope, request id and security headers",
        "GET",
        "/ok",
        200,
        data={"ok": True},
        absent=("Cache-Control", *LIMIT_HEADERS),  # anonymous: caching is the route's call
        check=lambda r: r.json() == {"success": True, "data": {"ok": True}, "message": None},
    ),
    Scenario(
        "a safe incoming request id is echoed",
        "GET",
        "/ok",
        200,
        send={"X-Request-ID": "abc-123"},
        headers={"X-Request-ID": "abc-123"},
    ),
    Scenario(
        "a safe incoming request id is echoed in an error body",
        "GET",
        "/app-error",
        409,
        "CONFLICT",
        send={"X-Request-ID": "abc-124"},
        headers={"X-Request-ID": "abc-124"},
        message="Widget already exists",
    ),
    Scenario(
        "an unsafe incoming request id is replaced",
        "GET",
        "/ok",
        200,
        send={"X-Request-ID": "bad id; drop=1"},
        check=_fresh_request_id,
    ),
    Scenario(
        "the view's log context carries the request id",
        "GET",
        "/ctx",
        200,
        send={"X-Request-ID": "ctx-1"},
        data={"requestId": "ctx-1"},
    ),
    Scenario(
        "an over-long incoming request id is replaced",
        "GET",
        "/ok",
        200,
        send={"X-Request-ID": "a" * 500},
        check=_fresh_request_id,
    ),
    # --------------------------------------------------------------- errors of views and routing
    Scenario(
        "an AppError keeps its status, code and message",
        "GET",
        "/app-error",
        409,
        "CONFLICT",
        message="Widget already exists",
        fields=(),
    ),
    Scenario(
        "an exception in a view is a generic 500",
        "GET",
        "/boom",
        500,
        "INTERNAL_ERROR",
        message="An unexpected error occurred",
        fields=(),
        check=_generic_500,
    ),
    Scenario("a route miss is a 404 envelope", "GET", "/no/such/route", 404, "NOT_FOUND"),
    Scenario(
        "a route miss under the API prefix is a 404 envelope", "GET", "/api/nope", 404, "NOT_FOUND"
    ),
    Scenario(
        "a wrong method is 405 with Allow",
        "DELETE",
        "/ok",
        405,
        "METHOD_NOT_ALLOWED",
        check=_allow("GET"),
    ),
    Scenario(
        "GET on a POST route is 405 with Allow",
        "GET",
        "/echo",
        405,
        "METHOD_NOT_ALLOWED",
        check=_allow("POST"),
    ),
    # --------------------------------------------------------------- bodies: 400, 413, 415
    Scenario(
        "a valid body is parsed, validated and echoed",
        "POST",
        "/echo",
        200,
        json={"name": "Ada", "count": 2},
        data={"name": "Ada", "count": 2},
    ),
    Scenario(
        "snake_case keys of a body are accepted too",
        "POST",
        "/echo",
        200,
        json={"name": "Ada"},
        data={"name": "Ada", "count": 1},
    ),
    Scenario(
        "truncated JSON is BAD_REQUEST",
        "POST",
        "/echo",
        400,
        "BAD_REQUEST",
        send={"Content-Type": "application/json"},
        body=b'{"name":',
        message="The request body is not valid JSON",
        fields=(None,),  # where the parser stopped
    ),
    Scenario(
        "deep nesting is BAD_REQUEST, not a RecursionError",
        "POST",
        "/echo",
        400,
        "BAD_REQUEST",
        send={"Content-Type": "application/json"},
        body=b"[" * (MAX_BODY - 10),
        message="The request body is nested too deeply",
    ),
    Scenario(
        "an empty JSON body is BAD_REQUEST",
        "POST",
        "/echo",
        400,
        "BAD_REQUEST",
        send={"Content-Type": "application/json"},
        body=b"",
        message="The request body is empty",
        differs={
            "drf": differ(
                "DRF's request.data reads an empty body as no data ({}), so the model's "
                "required fields are reported",
                code="VALIDATION_ERROR",
                message="Name is required",
                fields=("name",),
            )
        },
    ),
    Scenario(
        "a text/plain body is 415",
        "POST",
        "/echo",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        send={"Content-Type": "text/plain"},
        body=b'{"name": "a"}',
    ),
    Scenario(
        "a body without a content type is 415",
        "POST",
        "/echo",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        body=b'{"name": "a"}',
    ),
    Scenario(
        "an application/*+json body is read",
        "POST",
        "/echo",
        200,
        send={"Content-Type": "application/merge-patch+json; charset=utf-8"},
        body=b'{"name": "a"}',
        data={"name": "a", "count": 1},
    ),
    Scenario(
        "a body over the cap is 413",
        "POST",
        "/echo",
        413,
        "PAYLOAD_TOO_LARGE",
        json={"name": "x" * (MAX_BODY + 1)},
        message=f"The request body is larger than {MAX_BODY} bytes",
    ),
    Scenario(
        "a body of exactly the cap is read",
        "POST",
        "/echo",
        200,
        json={"name": "x" * (MAX_BODY - len(b'{"name": ""}'))},
        check=lambda r: r.json()["data"]["count"] == 1,
    ),
    Scenario(
        "invalid fields are listed, their values never echoed",
        "POST",
        "/echo",
        400,
        "VALIDATION_ERROR",
        json={"name": 5, "count": "SENTINEL-VALUE"},
        fields=("name", "count"),
        message="The request contains invalid fields",
        check=_no_echo(b"SENTINEL-VALUE"),
    ),
    Scenario(
        "a missing field is named",
        "POST",
        "/echo",
        400,
        "VALIDATION_ERROR",
        json={},
        fields=("name",),
        message="Name is required",
    ),
    Scenario(
        "an unknown field is refused",
        "POST",
        "/echo",
        400,
        "VALIDATION_ERROR",
        json={"name": "a", "colour": "red"},
        fields=("colour",),
        message="Unknown field",
    ),
    Scenario(
        "a JSON array where an object is expected",
        "POST",
        "/echo",
        400,
        "VALIDATION_ERROR",
        json=[1, 2],
        fields=(None,),
        message="Input should be an object",
    ),
    Scenario(
        "the framework's own input error is a 400 envelope",
        "GET",
        "/native?number=abc",
        400,
        "VALIDATION_ERROR",
        message=_ANY,  # each framework's own wording and fields
        fields=_ANY,
        differs={
            "flask": differ(
                "Flask has no typed query parameters; its own input error is werkzeug's "
                "BadRequestKeyError for a missing key, which names no field",
                code="BAD_REQUEST",
            )
        },
    ),
    # --------------------------------------------------------------- path and query parameters
    Scenario(
        "a typed path parameter is converted",
        "GET",
        "/things/12",
        200,
        data={"thingId": 12},
    ),
    Scenario(
        "a malformed path parameter is 400 naming it in camelCase",
        "GET",
        "/things/abc",
        400,
        "VALIDATION_ERROR",
        fields=("thingId",),
        message=NOT_AN_INT,
    ),
    Scenario(
        "an out-of-range path parameter is 400",
        "GET",
        "/things/0",
        400,
        "VALIDATION_ERROR",
        fields=("thingId",),
        message="Input should be greater than or equal to 1",
    ),
    Scenario(
        "a typed query parameter is read by its camelCase name",
        "GET",
        "/search?maxCount=5",
        200,
        data={"maxCount": 5},
    ),
    Scenario(
        "an absent query parameter takes its default", "GET", "/search", 200, data={"maxCount": 10}
    ),
    Scenario(
        "a malformed query parameter is 400 naming it",
        "GET",
        "/search?maxCount=abc",
        400,
        "VALIDATION_ERROR",
        fields=("maxCount",),
        message=NOT_AN_INT,
    ),
    Scenario(
        "an out-of-range query parameter is 400",
        "GET",
        "/search?maxCount=0",
        400,
        "VALIDATION_ERROR",
        fields=("maxCount",),
        message="Input should be greater than or equal to 1",
    ),
    Scenario(
        "a repeated scalar query parameter is refused",
        "GET",
        "/search?maxCount=1&maxCount=2",
        400,
        "VALIDATION_ERROR",
        fields=("maxCount",),
        message="Only one value is allowed",
        differs={
            "fastapi": differ(
                "FastAPI's own query parameters take the last of repeated values; "
                "backendkit's Pagination and validate_query refuse them",
                status=200,
                code=None,
                fields=None,
                message=None,
                data={"maxCount": 2},
            )
        },
    ),
    Scenario(
        "page parameters are read",
        "GET",
        "/items?page=3&perPage=7",
        200,
        data={"page": 3, "perPage": 7},
    ),
    Scenario("page parameters default", "GET", "/items", 200, data={"page": 1, "perPage": 20}),
    *(
        Scenario(
            f"bad page parameters are 400: {query}",
            "GET",
            f"/items?{query}",
            400,
            "VALIDATION_ERROR",
            fields=(name,),
            message=message,
        )
        for query, name, message in (
            ("page=0", "page", "Input should be greater than or equal to 1"),
            ("page=abc", "page", NOT_AN_INT),
            ("perPage=0", "perPage", "Input should be greater than or equal to 1"),
            ("perPage=101", "perPage", "Input should be less than or equal to 100"),
            ("page=1&page=2", "page", "Only one value is allowed"),
        )
    ),
    # --------------------------------------------------------------- authentication
    Scenario(
        "no credentials is 401 with WWW-Authenticate",
        "GET",
        "/me",
        401,
        "UNAUTHENTICATED",
        headers=BEARER,
    ),
    Scenario(
        "another scheme is 401",
        "GET",
        "/me",
        401,
        "UNAUTHENTICATED",
        send={"Authorization": "Basic dXNlcjpwYXNz"},
        headers=BEARER,
        message=MALFORMED_AUTHORIZATION,
    ),
    Scenario(
        "Bearer without a token is 401",
        "GET",
        "/me",
        401,
        "UNAUTHENTICATED",
        send={"Authorization": "Bearer"},
        headers=BEARER,
        message=MALFORMED_AUTHORIZATION,
    ),
    Scenario(
        "a malformed Authorization header is 401",
        "GET",
        "/me",
        401,
        "UNAUTHENTICATED",
        send={"Authorization": "Bearer not a token"},
        headers=BEARER,
        message=MALFORMED_AUTHORIZATION,
    ),
    Scenario(
        "a token that is no JWT is INVALID_TOKEN",
        "GET",
        "/me",
        401,
        "INVALID_TOKEN",
        send={"Authorization": "Bearer abc.def.ghi"},
        headers=BEARER,
    ),
    Scenario(
        "an expired token is INVALID_TOKEN",
        "GET",
        "/me",
        401,
        "INVALID_TOKEN",
        credentials="expired",
        headers=BEARER,
    ),
    Scenario(
        "a refresh token is no access token",
        "GET",
        "/me",
        401,
        "INVALID_TOKEN",
        credentials="refresh",
        headers=BEARER,
    ),
    Scenario(
        "a token signed with another key is INVALID_TOKEN",
        "GET",
        "/me",
        401,
        "INVALID_TOKEN",
        credentials="foreign",
        headers=BEARER,
    ),
    Scenario(
        "a valid token authenticates; the answer is no-store",
        "GET",
        "/me",
        200,
        credentials="user",
        data={"id": "user-7"},
        headers={"Cache-Control": "no-store"},
        absent=("WWW-Authenticate",),
    ),
    Scenario(
        "a user without the role is 403", "GET", "/admin", 403, "FORBIDDEN", credentials="user"
    ),
    Scenario(
        "the role holder passes", "GET", "/admin", 200, credentials="admin", data={"admin": True}
    ),
    Scenario(
        "a role check without credentials is 401, not 403",
        "GET",
        "/admin",
        401,
        "UNAUTHENTICATED",
        headers=BEARER,
    ),
    Scenario(
        "a role check with a bad token is 401",
        "GET",
        "/admin",
        401,
        "INVALID_TOKEN",
        send={"Authorization": "Bearer abc.def.ghi"},
        headers=BEARER,
    ),
    # --------------------------------------------------------------- cookie transport and CSRF
    Scenario(
        "a cookie authenticates a safe request without the CSRF header",
        "GET",
        "/me",
        200,
        profile="cookie",
        credentials="cookie",
        data={"id": "user-7"},
    ),
    Scenario(
        "a cookie-authenticated POST without the CSRF header is 403",
        "POST",
        "/whoami",
        403,
        "FORBIDDEN",
        profile="cookie",
        credentials="cookie",
        message="CSRF token missing or invalid",
    ),
    Scenario(
        "a cookie-authenticated POST with a wrong CSRF header is 403",
        "POST",
        "/whoami",
        403,
        "FORBIDDEN",
        profile="cookie",
        credentials="cookie",
        send={"X-CSRF-Token": "something-else"},
        message="CSRF token missing or invalid",
    ),
    Scenario(
        "a cookie-authenticated POST with the CSRF header passes",
        "POST",
        "/whoami",
        200,
        profile="cookie",
        credentials="cookie",
        send={"X-CSRF-Token": CSRF},
        data={"id": "user-7"},
    ),
    Scenario(
        "a Bearer POST needs no CSRF header under cookie transport",
        "POST",
        "/whoami",
        200,
        profile="cookie",
        credentials="user",
        data={"id": "user-7"},
    ),
    Scenario(
        "a Bearer header is read before the cookie",
        "GET",
        "/me",
        401,
        "INVALID_TOKEN",
        profile="cookie",
        credentials="cookie",
        send={"Authorization": "Bearer abc.def.ghi"},
        headers=BEARER,
    ),
    Scenario(
        "without cookie transport an access cookie is ignored",
        "GET",
        "/me",
        401,
        "UNAUTHENTICATED",
        credentials="cookie",
        headers=BEARER,
    ),
    Scenario(
        "an unsafe request with no cookie and no token is 401",
        "POST",
        "/whoami",
        401,
        "UNAUTHENTICATED",
        profile="cookie",
        headers=BEARER,
    ),
    # --------------------------------------------------------------- route limits
    Scenario(
        "a limited route carries the rate-limit headers",
        "GET",
        "/limited",
        200,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "1"},
        check=_reset_within(60),
    ),
    Scenario(
        "the last allowed hit shows nothing remaining",
        "GET",
        "/limited",
        200,
        repeat=1,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},
    ),
    Scenario(
        "the first denied hit is 429 with Retry-After",
        "GET",
        "/limited",
        429,
        "RATE_LIMITED",
        repeat=2,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},
        check=_retry_after(1, 120),  # sliding window: two windows at most
    ),
    Scenario(
        "a fail_closed rule is an ordinary limit while its storage answers",
        "GET",
        "/guarded",
        200,
        headers={"RateLimit-Limit": "5", "RateLimit-Remaining": "4"},
    ),
    Scenario(
        "a second, more restrictive rule decides the headers from the first hit",
        "GET",
        "/limited-twice",
        200,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "1"},  # "2/hour", not "3/minute"
        check=_reset_within(3600),
    ),
    Scenario(
        "a second, more restrictive rule decides the headers",
        "GET",
        "/limited-twice",
        200,
        repeat=1,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},  # "2/hour", not "3/minute"
        check=_reset_within(3600),
    ),
    Scenario(
        "the rule that denied shows on the 429",
        "GET",
        "/limited-twice",
        429,
        "RATE_LIMITED",
        repeat=2,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},
        check=_retry_after(61, 7200),  # the hour rule: two hours at most
    ),
    Scenario(
        "a looser second rule does not hide the first rule's budget",
        "GET",
        "/limited-loose",
        200,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "1"},  # not "50/hour"
    ),
    Scenario(
        "a looser second rule does not hide the first rule's last hit",
        "GET",
        "/limited-loose",
        200,
        repeat=1,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},
    ),
    Scenario(
        "the first rule denies under a looser second one",
        "GET",
        "/limited-loose",
        429,
        "RATE_LIMITED",
        repeat=2,
        headers={"RateLimit-Limit": "2"},
        check=_retry_after(1, 120),  # sliding window: two at most
    ),
    # --------------------------------------------------------------- the app-wide default limit
    Scenario(
        "the default limit charges a route under the API prefix",
        "GET",
        "/api/ok",
        200,
        profile="default",
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "1"},
    ),
    Scenario(
        "the default limit denies under the API prefix",
        "GET",
        "/api/ok",
        429,
        "RATE_LIMITED",
        profile="default",
        repeat=2,
        headers={"RateLimit-Limit": "2", "RateLimit-Remaining": "0"},
        check=_retry_after(1, 120),  # sliding window: two windows at most
    ),
    Scenario(
        "the default limit charges a route miss under the API prefix",
        "GET",
        "/api/nope",
        429,
        "RATE_LIMITED",
        profile="default",
        repeat=2,
    ),
    Scenario(
        "the default limit never charges outside the API prefix",
        "GET",
        "/ok",
        200,
        profile="default",
        repeat=3,
        data={"ok": True},
        absent=LIMIT_HEADERS,
    ),
    Scenario(
        "the default limit never charges the health route",
        "GET",
        "/api/health",
        200,
        profile="default",
        repeat=3,
        absent=LIMIT_HEADERS,
    ),
    # --------------------------------------------------------------- ETag and 304
    Scenario(
        "a cacheable answer carries a strong ETag and Cache-Control",
        "GET",
        "/etag",
        200,
        data=ETAG_DATA,
        headers={"ETag": ETAG, "Cache-Control": ETAG_CACHE_CONTROL},
    ),
    Scenario(
        "a matching If-None-Match is a bodiless 304",
        "GET",
        "/etag",
        304,
        send={"If-None-Match": ETAG},
        headers={"ETag": ETAG, "Cache-Control": ETAG_CACHE_CONTROL},
        absent=("Content-Type",),
        check=_bodiless,
    ),
    Scenario(
        "If-None-Match: * matches too",
        "GET",
        "/etag",
        304,
        send={"If-None-Match": "*"},
        headers={"ETag": ETAG},
        check=_bodiless,
    ),
    Scenario(
        "a stale If-None-Match gets the full answer",
        "GET",
        "/etag",
        200,
        send={"If-None-Match": '"stale"'},
        data=ETAG_DATA,
        headers={"ETag": ETAG},
    ),
    # --------------------------------------------------------------- health
    Scenario(
        "health: every probe answers, 200",
        "GET",
        "/api/health",
        200,
        absent=("Retry-After",),
    ),
    Scenario(
        "health: a failing probe is 503 with Retry-After, naming it",
        "GET",
        "/api/health",
        503,
        "SERVICE_UNAVAILABLE",
        fields=("probe",),
        headers={"Retry-After": _pattern(r"[1-9][0-9]*")},
        setup=_unhealthy,
        message="A dependency is unavailable",
    ),
    # --------------------------------------------------------------- streamed response
    Scenario(
        "a streamed body keeps the request id and its log context",
        "GET",
        "/stream",
        200,
        check=_streamed_request_id,
    ),
)


# --------------------------------------------------------------------------- the runner


def _credentials(kind: str | None, harness: Harness) -> dict[str, str]:
    """Request headers for a kind of credentials."""
    if kind is None:
        return {}
    if kind == "user":
        return {"Authorization": f"Bearer {harness.token('user-7')}"}
    if kind == "admin":
        return {"Authorization": f"Bearer {harness.token('a', ('admin',))}"}
    if kind == "expired":
        # The harness kit's key, an hour ago, for a minute.
        past = TokenService(JWTKey.hmac("k" * 32), clock=FakeClock(start=time.time() - 3600))
        return {"Authorization": f"Bearer {past.issue_access('user-7', ttl=60)}"}
    if kind == "refresh":
        return {"Authorization": f"Bearer {harness.tokens.issue_pair('user-7').refresh_token}"}
    if kind == "foreign":
        other = TokenService(JWTKey.hmac("z" * 32))
        return {"Authorization": f"Bearer {other.issue_access('user-7')}"}
    assert kind == "cookie", kind
    return {"Cookie": f"access_token={harness.token('user-7')}; csrf_token={CSRF}"}


def run(scenario: Scenario, harness: Harness) -> Result:
    """Send the row's request (after ``repeat`` identical ones) and return the last answer."""
    headers = {**_credentials(scenario.credentials, harness), **scenario.send}
    json = None if scenario.json is _NO_JSON else scenario.json
    if scenario.setup is not None:
        scenario.setup(harness)
    for _ in range(scenario.repeat):
        harness.request(
            scenario.method, scenario.path, headers=headers, body=scenario.body, json=json
        )
    return harness.request(
        scenario.method, scenario.path, headers=headers, body=scenario.body, json=json
    )


def assert_answer(result: Result, row: Scenario) -> None:
    """Everything a row expects, and what every answer must carry."""
    assert result.status == row.status, result.body
    request_id = result.header("X-Request-ID")
    assert request_id
    assert result.header("X-Content-Type-Options") == "nosniff"
    if row.code is not None:
        assert result.header("Content-Type") == "application/json; charset=utf-8"
        payload = result.json()
        assert payload["success"] is False
        error = payload["error"]
        assert error["code"] == row.code
        assert error["requestId"] == request_id
        if row.message is not _ANY:
            assert error["message"] == (row.message or CATALOGUE[row.code])
        if row.fields is not _ANY:
            assert tuple(d["field"] for d in error["details"]) == (row.fields or ())
    elif row.status != 304 and row.path != "/stream":
        assert result.header("Content-Type") == "application/json; charset=utf-8"
        payload = result.json()
        assert payload["success"] is True
        if row.data is not _ANY:
            assert payload["data"] == row.data
    for name, expected in row.headers.items():
        value = result.header(name)
        if isinstance(expected, re.Pattern):
            assert value is not None, name
            assert expected.fullmatch(value), (name, value)
        else:
            assert value == expected, (name, value)
    for name in row.absent:
        assert result.header(name) is None, (name, result.header(name))
    if row.check is not None:
        row.check(result)


def _cases() -> list[Any]:
    return [
        pytest.param(framework, row, id=f"{framework}-{row.name}")
        for row in SCENARIOS
        for framework in sorted(APP_FACTORIES)
    ]


@pytest.mark.parametrize(("framework", "row"), _cases())
def test_scenario(framework: str, row: Scenario) -> None:
    """Each framework answers the row as the table says (or as its named difference says)."""
    harness = conformance_harness(framework, row.profile)
    try:
        assert_answer(run(row, harness), row.for_framework(framework))
    finally:
        harness.close()


def test_the_table_covers_what_it_promises() -> None:
    """At least 60 scenarios, every profile used, every differing framework known."""
    assert len(SCENARIOS) >= 60
    assert len({row.name for row in SCENARIOS}) == len(SCENARIOS)
    assert {row.profile for row in SCENARIOS} == set(PROFILES)
    for row in SCENARIOS:
        assert set(row.differs) <= set(APP_FACTORIES), row.name
        for difference in row.differs.values():
            assert difference.reason
            assert difference.overrides
            assert set(difference.overrides) <= set(Scenario.__dataclass_fields__)
    statuses = {row.status for row in SCENARIOS}
    assert {200, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503} <= statuses
    for row in SCENARIOS:
        if row.code == "VALIDATION_ERROR":
            assert row.fields is not None, row.name  # a validation row names its fields
    # Every named difference is listed in the docs, one table row each.
    docs = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = docs.split("## Differences between frameworks", 1)[1].split("\n## ", 1)[0]
    listed = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    named = [(fw, row) for row in SCENARIOS for fw in row.differs]
    assert len(listed) - 1 == len(named)  # less the header
    for framework, row in named:
        label = {"fastapi": "FastAPI", "flask": "Flask", "django": "Django", "drf": "DRF"}
        assert any(f"| {label[framework]} |" in line for line in listed), (framework, row.name)
    # Every route of the shared app is exercised by some row.
    requested = {row.path.split("?")[0] for row in SCENARIOS}
    for route in SPEC:
        prefix = route.path.split("{")[0]
        assert any(path.startswith(prefix) for path in requested), route.path


# --------------------------------------------------------------------------- beyond one row


@pytest.fixture(params=sorted(APP_FACTORIES))
def harness(request: pytest.FixtureRequest) -> Any:
    built = conformance_harness(request.param, "plain")
    yield built
    built.close()


def test_unhandled_exception_is_generic_500_with_traceback_in_logs(harness: Harness) -> None:
    """An unexpected error is a generic 500; the traceback and request id go to the log only."""
    with capture_logs() as logs:
        result = harness.request("GET", "/boom", headers={"X-Request-ID": "boom-1"})
    assert result.status == 500
    assert result.json()["error"]["requestId"] == "boom-1"
    logged = [e for e in logs if e["event"] == "unhandled_exception"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == "boom-1"
    assert isinstance(logged[0]["exc_info"], RuntimeError)
    assert SECRET in str(logged[0]["exc_info"])


def test_one_access_log_event_per_request(harness: Harness) -> None:
    """Each request logs exactly one request_completed event with its fields."""
    token = harness.token("user-9")
    with capture_logs() as logs:
        harness.request(
            "GET", "/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "acc-1"}
        )
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
