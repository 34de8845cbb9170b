"""DRF adapter: exception handler mapping, authentication, throttles, parser and renderer.

The shared suite (test_common_errors.py, "drf") covers the common error paths; these tests
cover DRF's own exceptions, user-keyed throttles and the classes used without the middleware.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import signals
from django.test import override_settings
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from tests.adapters._apps import MAX_BODY, make_kit
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters.django import reset_config
from backendkit.adapters.drf import (
    ContentNegotiation,
    EnvelopeJSONRenderer,
    JSONParser,
    as_api_exception,
    exception_handler,
    throttle_for,
)
from backendkit.adapters.drf._exceptions import validation_details
from backendkit.adapters.drf._json import ENVELOPE_ATTR
from backendkit.errors import BadRequest, Conflict, PayloadTooLarge, RateLimited
from backendkit.testing import capture_logs
from backendkit.web import Principal, WebKit

URLCONF = "tests.adapters._django_test_urls"
API_ONLY = {"KIT": "tests.adapters._django_app.current_kit", "API_PREFIXES": ["/api/"]}
WITHOUT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]


@pytest.fixture(autouse=True)
def api_prefix() -> Iterator[None]:
    with override_settings(BACKENDKIT=API_ONLY):
        yield
    reset_config()


@pytest.fixture
def kit() -> WebKit:
    return use_kit(make_kit())


@pytest.fixture
def client(kit: WebKit) -> Any:
    return client_for(URLCONF)


def bearer(kit: WebKit, sub: str = "u1", **claims: Any) -> dict[str, str]:
    assert kit.tokens is not None
    return {"HTTP_AUTHORIZATION": "Bearer " + kit.tokens.issue_access(sub, claims=claims)}


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert body["success"] is False
    assert body["error"]["code"] == code
    return body["error"]  # type: ignore[no-any-return]


def post_json(client: Any, path: str, payload: Any, **extra: Any) -> Any:
    return client.post(path, data=json.dumps(payload), content_type="application/json", **extra)


# --------------------------------------------------------------------------- validation


def test_serializer_errors_are_field_details(client: Any) -> None:
    """A DRF ValidationError is VALIDATION_ERROR with one detail per field."""
    error = error_of(
        post_json(client, "/api/drf/serializer-echo", {"count": "x"}), 400, "VALIDATION_ERROR"
    )
    assert {d["field"] for d in error["details"]} == {"name", "count"}


def test_serializer_valid_twin(client: Any) -> None:
    """The twin: valid data reaches the view, wrapped in the success envelope."""
    response = post_json(client, "/api/drf/serializer-echo", {"name": "Ada", "count": 3})
    assert json.loads(response.content) == {
        "success": True,
        "data": {"name": "Ada", "count": 3},
        "message": None,
    }


def test_submitted_values_are_never_echoed(client: Any) -> None:
    """invalid_choice and custom validators quoting the value are replaced by fixed texts."""
    response = post_json(
        client,
        "/api/drf/choices",
        {
            "kind": "SENTINEL-1",
            "code": "SENTINEL-2",
            "items": [1, "SENTINEL-3"],
            "address": {"street": "SENTINEL-4"},
        },
    )
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert b"SENTINEL" not in response.content
    details = {d["field"]: d["message"] for d in error["details"]}
    assert details["kind"] == "Not a valid choice."
    assert details["code"] == "Invalid value."
    assert details["items[1]"] == "A valid integer is required."
    assert details["address.street"].startswith("Ensure this field has no more than 3")


def test_object_level_error_has_no_field(client: Any) -> None:
    """non_field_errors become details with field None."""
    response = post_json(
        client, "/api/drf/choices", {"kind": "a", "code": "c", "items": [], "address": {}}
    )
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert error["details"] == [{"field": "code", "message": "Invalid value."}] or {
        (d["field"], d["message"]) for d in error["details"]
    } >= {(None, "Whole object rejected")}


def test_nested_list_paths(client: Any) -> None:
    """Errors inside nested serializers carry dotted paths with list indexes."""
    response = post_json(client, "/api/drf/nested", {"lines": [{"qty": 1}, {"qty": "x"}]})
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == ["lines[1].qty"]


def test_validation_details_without_request() -> None:
    """Details are produced without a request (no value comparison possible)."""
    details = validation_details(ValidationError({"a": ["bad"]}))
    assert [(d.field, d.message) for d in details] == [("a", "bad")]


# --------------------------------------------------------------------------- DRF exceptions


def test_not_authenticated_without_authenticate_header_is_forbidden(client: Any) -> None:
    """With no authenticator offering WWW-Authenticate, DRF answers 403: FORBIDDEN here too."""
    error_of(client.get("/api/drf/no-auth-header"), 403, "FORBIDDEN")


def test_basic_auth_failure_keeps_drfs_message(client: Any) -> None:
    """AuthenticationFailed from another DRF authenticator is UNAUTHENTICATED."""
    response = client.get("/api/drf/basic", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    error = error_of(response, 401, "UNAUTHENTICATED")
    assert error["message"] == "Bad credentials"
    assert response["WWW-Authenticate"] == "Basic"


def test_permission_denied_message_is_kept(client: Any) -> None:
    """A permission's own message is written for clients and kept."""
    error = error_of(client.get("/api/drf/denied"), 403, "FORBIDDEN")
    assert error["message"] == "Only owners may look"


def test_http404_is_not_found(client: Any) -> None:
    """get_object_or_404's Http404 is NOT_FOUND."""
    error_of(client.get("/api/drf/missing"), 404, "NOT_FOUND")


def test_drf_throttled_is_rate_limited_with_retry_after(client: Any) -> None:
    """DRF's own Throttled keeps its wait as Retry-After."""
    response = client.get("/api/drf/throttled")
    error_of(response, 429, "RATE_LIMITED")
    assert response["Retry-After"] == "12"


def test_custom_4xx_keeps_status_and_message(client: Any) -> None:
    """A custom APIException keeps its status; its 4xx text is for clients."""
    error = error_of(client.get("/api/drf/teapot"), 418, "BAD_REQUEST")
    assert error["message"] == "I am a teapot"


def test_custom_5xx_hides_its_message(client: Any) -> None:
    """A custom 5xx APIException keeps its status but never its text."""
    response = client.get("/api/drf/bad-gateway")
    error_of(response, 502, "INTERNAL_ERROR")
    assert b"10.0.0.7" not in response.content


def test_not_acceptable(client: Any) -> None:
    """406 keeps its status with the generic client-error code."""
    error_of(client.get("/api/drf/not-acceptable"), 406, "BAD_REQUEST")


def test_app_error_raised_in_drf_view(client: Any) -> None:
    """An AppError in a DRF view keeps its code and message."""
    response = client.get("/harness/app-error")
    assert response.status_code == 409


def test_unhandled_error_sends_djangos_signal(client: Any) -> None:
    """An unhandled error is a generic 500, and got_request_exception still fires."""
    seen: list[Any] = []

    def receiver(sender: Any, request: Any, **_: Any) -> None:
        seen.append(request.path)

    signals.got_request_exception.connect(receiver)
    try:
        response = client_for("tests.adapters._drf_harness_urls").get("/boom")
    finally:
        signals.got_request_exception.disconnect(receiver)
    error_of(response, 500, "INTERNAL_ERROR")
    assert seen == ["/boom"]


def test_handler_without_request_context() -> None:
    """The handler works with an empty context (no request id)."""
    response = exception_handler(Conflict("x"), {})
    assert response.status_code == 409
    assert json.loads(response.content)["error"]["requestId"] is None


def test_as_api_exception_kinds() -> None:
    """Auth errors become AuthenticationFailed, limits Throttled, others a generic wrapper."""
    from rest_framework.exceptions import AuthenticationFailed, Throttled

    from backendkit.errors import Unauthenticated

    assert isinstance(as_api_exception(Unauthenticated()), AuthenticationFailed)
    throttled = as_api_exception(RateLimited(retry_after=3))
    assert isinstance(throttled, Throttled)
    assert throttled.wait == 3
    assert as_api_exception(BadRequest()).status_code == 400


# --------------------------------------------------------------------------- auth


def test_principal_is_authenticated() -> None:
    """The core Principal satisfies DRF's IsAuthenticated (no DRF-specific subclass needed)."""
    principal = Principal("u1")
    assert principal.is_authenticated is True
    assert principal.is_anonymous is False


def test_scopes_permission(client: Any, kit: WebKit) -> None:
    """has_scopes requires every scope; anonymous callers get 401."""
    error_of(client.get("/api/drf/scoped"), 401, "UNAUTHENTICATED")
    error_of(client.get("/api/drf/scoped", **bearer(kit, scope="x")), 403, "FORBIDDEN")
    assert client.get("/api/drf/scoped", **bearer(kit, scope="users:write")).status_code == 200


def test_cookie_transport_csrf_failure_is_forbidden() -> None:
    """With the cookie transport, an unsafe request without the CSRF header is FORBIDDEN."""
    from backendkit.web import CookieAuth

    kit = use_kit(make_kit(cookie_auth=CookieAuth(secure=False)))
    assert kit.tokens is not None
    client = client_for(URLCONF)
    client.cookies["access_token"] = kit.tokens.issue_access("c")
    client.cookies["csrf_token"] = "t"
    error_of(post_json(client, "/api/drf/data", {}), 403, "FORBIDDEN")
    assert post_json(client, "/api/drf/data", {}, HTTP_X_CSRF_TOKEN="t").status_code == 200


# --------------------------------------------------------------------------- throttles


def test_user_keyed_throttle_counts_per_user(client: Any, kit: WebKit) -> None:
    """DRF authenticates before throttling: key="user" gives each user their own budget."""
    alice = bearer(kit, "alice")
    statuses = [client.get("/api/drf/user-throttle", **alice).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = client.get("/api/drf/user-throttle", **bearer(kit, "bob"))
    assert other.status_code == 200
    assert other["RateLimit-Remaining"] == "1"


def test_anonymous_user_key_falls_back_to_address(client: Any) -> None:
    """Anonymous requests under a user-keyed rule share the client address's budget."""
    statuses = [client.get("/api/drf/user-throttle").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_named_rule_is_shared_between_views(client: Any) -> None:
    """Views using one named throttle class share its counter."""
    assert client.get("/api/drf/shared-a").status_code == 200
    error_of(client.get("/api/drf/shared-b"), 429, "RATE_LIMITED")


def test_denial_stops_before_later_rules(client: Any) -> None:
    """Once a rule denies, later throttles of the view are not charged."""
    assert client.get("/api/drf/two-rules")["RateLimit-Limit"] in ("1", "5")
    for _ in range(3):
        error_of(client.get("/api/drf/two-rules"), 429, "RATE_LIMITED")
    # The second rule was charged once (the allowed request), not on the denials.
    from backendkit.web import route_rule

    limiter = use_kit_limiter()
    result = limiter.peek(route_rule("5/minute", "second-rule"), "ip:127.0.0.1")
    assert result.remaining == 4


def use_kit_limiter() -> Any:
    from backendkit.adapters.django import current_kit

    limiter = current_kit().limiter
    assert limiter is not None
    return limiter


def test_user_key_counts_a_session_user(client: Any) -> None:
    """Without a token, key="user" counts the user another authenticator (a session) set."""
    statuses = [client.get("/api/drf/session-user", HTTP_X_USER=u).status_code for u in "aab"]
    assert statuses == [200, 429, 200]


def test_user_key_falls_back_to_the_address_without_a_user(client: Any) -> None:
    """The twin: anonymous requests share the client address's budget."""
    statuses = [client.get("/api/drf/session-user").status_code for _ in range(2)]
    assert statuses == [200, 429]


def test_literal_bucket_and_cost(client: Any) -> None:
    """bucket= is one counter for every caller; cost=2 spends two units of it."""
    first = client.get("/api/drf/costly", REMOTE_ADDR="198.51.100.1")
    assert (first.status_code, first["RateLimit-Remaining"]) == (200, "1")
    error_of(client.get("/api/drf/costly", REMOTE_ADDR="198.51.100.2"), 429, "RATE_LIMITED")


def test_throttle_refuses_an_ambiguous_key() -> None:
    """key="login:x" is refused when the class is built; bucket="login:x" is the valid twin."""
    from backendkit.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="bucket"):
        throttle_for("1/minute", key="login:x")  # type: ignore[arg-type]
    assert throttle_for("1/minute", bucket="login:x").limit.bucket == "login:x"


def test_callable_throttle_key(client: Any) -> None:
    """A key function picks the bucket."""
    assert client.get("/api/drf/tenant", HTTP_X_TENANT="a").status_code == 200
    error_of(client.get("/api/drf/tenant", HTTP_X_TENANT="a"), 429, "RATE_LIMITED")
    assert client.get("/api/drf/tenant", HTTP_X_TENANT="b").status_code == 200


def test_throttle_without_limiter_is_a_configuration_error() -> None:
    """A throttle with no limiter configured is a 500 with the reason logged."""
    base = make_kit()
    use_kit(WebKit(settings=base.settings, tokens=base.tokens))  # by hand: no limiter
    with capture_logs() as logs:
        response = client_for(URLCONF).get("/api/drf/tenant")
    error_of(response, 500, "INTERNAL_ERROR")
    assert any(e.get("exception_type") == "ConfigurationError" for e in logs)


def test_bad_limit_string_fails_at_definition() -> None:
    """throttle_for refuses an unparsable limit when the class is built."""
    with pytest.raises(ValueError, match="often"):
        throttle_for("often")


def test_headers_mixin_without_the_middleware(kit: WebKit) -> None:
    """Without BackendKitMiddleware, RateLimitHeadersMixin still adds the rate-limit headers."""
    with override_settings(MIDDLEWARE=WITHOUT_MIDDLEWARE):
        response = client_for(URLCONF).get("/api/drf/user-throttle", **bearer(kit))
    assert response.status_code == 200
    assert response["RateLimit-Limit"] == "2"
    assert not response.has_header("X-Request-ID")


# --------------------------------------------------------------------------- parser


def test_parser_caps_the_body_without_the_middleware(kit: WebKit) -> None:
    """The parser counts bytes itself: over MAX_BODY_BYTES is 413 even without the middleware."""
    with override_settings(MIDDLEWARE=WITHOUT_MIDDLEWARE):
        response = post_json(client_for(URLCONF), "/api/drf/data", {"x": "y" * MAX_BODY})
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


def test_parser_refuses_deep_nesting_without_the_middleware(kit: WebKit) -> None:
    """Deep nesting is 400 BAD_REQUEST, not DRF's RecursionError 500."""
    with override_settings(MIDDLEWARE=WITHOUT_MIDDLEWARE):
        response = client_for(URLCONF).post(
            "/api/drf/data", data=b"[" * 900, content_type="application/json"
        )
    error_of(response, 400, "BAD_REQUEST")


def test_parser_reads_valid_json(client: Any) -> None:
    """The twin: JSON is parsed into request.data; an empty body is an empty dict."""
    assert json.loads(post_json(client, "/api/drf/data", {"a": [1]}).content)["data"] == {
        "received": {"a": [1]}
    }
    empty = client.post("/api/drf/data", data=b"", content_type="application/json")
    assert json.loads(empty.content)["data"] == {"received": {}}


def test_parser_direct_use() -> None:
    """parse() works on a bare stream without a parser context (no declared length)."""
    import io

    use_kit(make_kit())
    assert JSONParser().parse(io.BytesIO(b'{"a": 1}')) == {"a": 1}
    from rest_framework.exceptions import APIException

    with pytest.raises(APIException) as info:
        JSONParser().parse(io.BytesIO(b"{"))
    assert isinstance(info.value.error, BadRequest)  # type: ignore[attr-defined]
    with pytest.raises(APIException) as too_big:
        JSONParser().parse(io.BytesIO(b"1" * (MAX_BODY + 1)))
    assert isinstance(too_big.value.error, PayloadTooLarge)  # type: ignore[attr-defined]


def test_negotiation_sends_json_suffix_types_to_the_parser() -> None:
    """application/*+json picks backendkit's JSON parser; other types keep DRF's choice."""
    from rest_framework.parsers import FormParser

    factory = APIRequestFactory()
    parsers = [FormParser(), JSONParser()]
    suffixed = factory.post("/x", data=b"{}", content_type="application/merge-patch+json")
    from rest_framework.request import Request

    assert isinstance(ContentNegotiation().select_parser(Request(suffixed), parsers), JSONParser)
    form = factory.post("/x", data="a=1", content_type="application/x-www-form-urlencoded")
    assert isinstance(ContentNegotiation().select_parser(Request(form), parsers), FormParser)


# --------------------------------------------------------------------------- renderer


def test_renderer_envelopes_and_passes_envelopes_through() -> None:
    """Data is wrapped; envelope responses and error responses are rendered as they are."""
    renderer = EnvelopeJSONRenderer()
    plain = Response({"a": 1})
    assert json.loads(renderer.render({"a": 1}, renderer_context={"response": plain})) == {
        "success": True,
        "data": {"a": 1},
        "message": None,
    }
    page = Response({"success": True, "data": [], "pagination": {}})
    setattr(page, ENVELOPE_ATTR, True)
    assert json.loads(renderer.render(page.data, renderer_context={"response": page})) == page.data
    failed = Response({"success": False})
    failed.exception = True
    assert json.loads(renderer.render(failed.data, renderer_context={"response": failed})) == {
        "success": False
    }
    assert renderer.render(None, renderer_context={"response": Response(status=204)}) == b""
    assert json.loads(renderer.render([1])) == {"success": True, "data": [1], "message": None}


def test_204_has_no_body(client: Any) -> None:
    """A 204 response carries no envelope."""
    response = client.delete("/api/drf/empty")
    assert response.status_code == 204
    assert response.content == b""


class _Echo(serializers.Serializer):  # type: ignore[type-arg]
    n = serializers.IntegerField()


def test_default_limit_charges_drf_views_once_per_request() -> None:
    """RATE_LIMIT_DEFAULT covers DRF views too (charged by the middleware, once per request)."""
    use_kit(make_kit(rate_limit_default="2/minute"))
    client = client_for(URLCONF)
    first = client.delete("/api/drf/empty")
    assert first.status_code == 204
    assert (first["RateLimit-Limit"], first["RateLimit-Remaining"]) == ("2", "1")
    assert client.delete("/api/drf/empty")["RateLimit-Remaining"] == "0"
    error_of(client.delete("/api/drf/empty"), 429, "RATE_LIMITED")
