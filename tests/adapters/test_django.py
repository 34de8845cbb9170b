"""Django adapter: what the shared error-path suite cannot see.

DEBUG pages, non-API paths, CSRF, APPEND_SLASH, DisallowedHost, RequestDataTooBig, async
mode, streaming, class-based views, HTTP caching, health checks and ``settings.BACKENDKIT``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import AsyncClient, RequestFactory, override_settings
from django.test.client import AsyncClientHandler
from django.utils.functional import SimpleLazyObject
from tests.adapters import _django_app
from tests.adapters._apps import make_kit
from tests.adapters._django_app import client_for, use_kit

from backendkit.adapters.django import (
    BackendKitMiddleware,
    client_key,
    current_kit,
    get_principal,
    get_request_id,
    page_response,
    rate_limit,
    reset_config,
    success_response,
)
from backendkit.adapters.django import views as error_views
from backendkit.adapters.django._request import session_user_id
from backendkit.errors import ConfigurationError, Unauthenticated
from backendkit.listing import CursorPage, Page
from backendkit.testing import capture_logs
from backendkit.web import CookieAuth, WebKit

URLCONF = "tests.adapters._django_test_urls"
KIT_PATH = "tests.adapters._django_app.current_kit"
API_ONLY = {"KIT": KIT_PATH, "API_PREFIXES": ["/api/"]}


@pytest.fixture(autouse=True)
def api_prefix() -> Iterator[None]:
    """These tests keep /html/ outside the API, as a site with an admin would."""
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
    assert body["error"]["requestId"] == response["X-Request-ID"]
    return body["error"]  # type: ignore[no-any-return]


class _AsyncUrlconfHandler(AsyncClientHandler):  # type: ignore[misc]
    async def get_response_async(self, request: Any) -> Any:
        request.urlconf = URLCONF
        return await super().get_response_async(request)


def _async_client() -> Any:
    """An AsyncClient that serves the test URLconf (the async middleware path)."""
    client = AsyncClient(raise_request_exception=False)
    client.handler = _AsyncUrlconfHandler(enforce_csrf_checks=False)
    return client


def _in_turn(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run the requests one after the other in one event loop; their responses in order."""

    async def run() -> list[Any]:
        return [await call() for call in calls]

    return asyncio.run(run())


@pytest.fixture
def aclient(kit: WebKit) -> Any:
    return _async_client()


# --------------------------------------------------------------------------- non-API paths


def test_html_route_miss_keeps_djangos_page_with_request_id(client: Any) -> None:
    """Outside the API prefixes a route miss is Django's own 404 page, still with a request id."""
    response = client.get("/elsewhere")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert response["X-Request-ID"]


def test_api_route_miss_is_enveloped(client: Any) -> None:
    """The twin: under /api/ the same miss is the NOT_FOUND envelope."""
    error_of(client.get("/api/elsewhere"), 404, "NOT_FOUND")


def test_html_page_untouched(client: Any) -> None:
    """An HTML page passes through, gaining only the request id and nosniff."""
    response = client.get("/html/page")
    assert response.content == b"<p>hello</p>"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_html_view_exception_is_djangos_500(client: Any) -> None:
    """An HTML view's crash is left to Django (handler500 falls back to its template)."""
    response = client.get("/html/boom")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


# --------------------------------------------------------------------------- DEBUG on


@override_settings(DEBUG=True)
def test_debug_route_miss_is_enveloped(client: Any) -> None:
    """With DEBUG on, Django's technical 404 page is rewritten into the envelope for API paths."""
    error = error_of(client.get("/api/elsewhere"), 404, "NOT_FOUND")
    assert "Traceback" not in json.dumps(error)


@override_settings(DEBUG=True)
def test_debug_unhandled_error_is_generic_500(client: Any) -> None:
    """With DEBUG on, a view crash is still a generic 500 envelope, never the debug page."""
    response = client.get("/api/boom")
    error = error_of(response, 500, "INTERNAL_ERROR")
    assert error["message"] == "An unexpected error occurred"
    assert b"secret internals" not in response.content


@pytest.mark.parametrize("debug", [False, True])
def test_disallowed_host_is_enveloped(client: Any, debug: bool) -> None:
    """A Host outside ALLOWED_HOSTS (DisallowedHost) is BAD_REQUEST, DEBUG on or off."""
    with override_settings(DEBUG=debug):
        response = client.get("/api/ok", HTTP_HOST="evil.example")
    error = error_of(response, 400, "BAD_REQUEST")
    assert "evil.example" not in error["message"]


def test_allowed_host_passes(client: Any) -> None:
    """The twin: an allowed host is served."""
    assert client.get("/api/ok", HTTP_HOST="testserver").status_code == 200


@pytest.mark.parametrize("debug", [False, True])
def test_error_raised_in_middleware_is_enveloped(kit: WebKit, debug: bool) -> None:
    """A crash outside any view (a middleware) is a generic 500 via handler500 or the rewrite."""
    middleware = [
        "backendkit.adapters.django.BackendKitMiddleware",
        "tests.adapters.test_django.ExplodingMiddleware",
    ]
    with override_settings(DEBUG=debug, MIDDLEWARE=middleware), capture_logs() as logs:
        response = client_for(URLCONF).get("/api/ok", HTTP_X_REQUEST_ID="mw-1")
    error_of(response, 500, "INTERNAL_ERROR")
    assert b"middleware internals" not in response.content
    if not debug:  # handler500 logs the traceback itself with the request id
        logged = [e for e in logs if e["event"] == "unhandled_exception"]
        assert logged[0]["request_id"] == "mw-1"


class ExplodingMiddleware:
    """A middleware that fails on every request."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        raise RuntimeError("middleware internals")


# --------------------------------------------------------------------------- 405, APPEND_SLASH


def test_require_http_methods_405_is_enveloped_with_allow(client: Any) -> None:
    """require_GET's plain HttpResponseNotAllowed becomes METHOD_NOT_ALLOWED, Allow kept."""
    response = client.post("/api/ok")
    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET"


def test_class_based_view_405_is_enveloped(client: Any, kit: WebKit) -> None:
    """View.http_method_not_allowed's 405 is rewritten too."""
    response = client.delete("/api/cbv/me", **bearer(kit))
    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("debug", [False, True])
def test_append_slash_never_swallows_a_post(client: Any, debug: bool) -> None:
    """POST to a path whose slash twin exists is a clean 404 (no 301 turning it into a GET)."""
    with override_settings(DEBUG=debug, APPEND_SLASH=True):
        response = client.post("/api/slash", data=b"{}", content_type="application/json")
    error_of(response, 404, "NOT_FOUND")


def test_append_slash_still_redirects_a_get(client: Any) -> None:
    """The twin: a GET may be redirected (nothing is lost)."""
    with override_settings(APPEND_SLASH=True):
        response = client.get("/api/slash")
    assert response.status_code == 301
    assert response["Location"] == "/api/slash/"


def test_post_to_the_slash_path_works(client: Any) -> None:
    """The twin: the real path accepts the request (405 here because the view is GET-only)."""
    response = client.get("/api/slash/")
    assert response.status_code == 200


# --------------------------------------------------------------------------- CSRF


@pytest.mark.parametrize("debug", [False, True])
def test_csrf_failure_is_forbidden_envelope(kit: WebKit, debug: bool) -> None:
    """A POST failing CsrfViewMiddleware is FORBIDDEN in the envelope (CSRF_FAILURE_VIEW)."""
    client = client_for(URLCONF, enforce_csrf_checks=True)
    with override_settings(
        DEBUG=debug, CSRF_FAILURE_VIEW="backendkit.adapters.django.views.csrf_failure"
    ):
        response = client.post("/api/form-protected", data={"a": "1"})
    error = error_of(response, 403, "FORBIDDEN")
    assert error["message"] == "CSRF verification failed"


def test_csrf_failure_on_html_path_is_djangos_page(kit: WebKit) -> None:
    """Outside the API the CSRF failure view falls back to Django's page."""
    client = client_for(URLCONF, enforce_csrf_checks=True)
    with override_settings(CSRF_FAILURE_VIEW="backendkit.adapters.django.views.csrf_failure"):
        response = client.post("/html/form", data={"a": "1"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_token_authenticated_view_is_csrf_exempt(kit: WebKit) -> None:
    """The twin: require_auth views carry their own protection and skip Django's CSRF check."""
    client = client_for(URLCONF, enforce_csrf_checks=True)
    assert client.post("/api/protected-post", **bearer(kit)).status_code == 200


def test_json_view_is_csrf_exempt(kit: WebKit) -> None:
    """json_body views only accept JSON, which no cross-site form can send."""
    client = client_for(URLCONF, enforce_csrf_checks=True)
    response = client.post("/api/raw-json", data=b"[1]", content_type="application/json")
    assert response.status_code == 200
    assert json.loads(response.content)["data"] == {"type": "list"}


# --------------------------------------------------------------------------- body size


def test_declared_length_over_djangos_own_cap_is_413(client: Any) -> None:
    """Django's DATA_UPLOAD_MAX_MEMORY_SIZE (a 400 RequestDataTooBig) is answered with 413."""
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10):
        response = client.post("/api/form", data="a=" + "x" * 50, content_type="text/plain")
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


def test_request_data_too_big_raised_in_view_is_413(client: Any) -> None:
    """Multipart fields over Django's cap raise RequestDataTooBig in the view: 413, not 400."""
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10):
        response = client.post("/api/form", data={"field": "x" * 100})
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


def test_small_multipart_form_is_read(client: Any) -> None:
    """The twin: a small form is parsed."""
    response = client.post("/api/form", data={"field": "x"})
    assert json.loads(response.content)["data"] == {"fields": ["field"]}


def test_bad_request_view_maps_request_data_too_big() -> None:
    """handler400 called by Django with RequestDataTooBig answers 413."""
    request = RequestFactory().get("/api/x")
    response = error_views.bad_request(request, RequestDataTooBig("too big"))
    assert response.status_code == 413


def test_error_views_fall_back_outside_the_api() -> None:
    """Each error view serves Django's default page for non-API paths."""
    request = RequestFactory().get("/html/x")
    assert error_views.bad_request(request, Exception()).status_code == 400
    assert error_views.permission_denied(request, Exception()).status_code == 403
    assert error_views.page_not_found(request, Exception()).status_code == 404
    assert error_views.server_error(request).status_code == 500


def test_error_views_answer_the_envelope_for_api_paths() -> None:
    """Called directly (no middleware), the views still answer the catalogue codes."""
    request = RequestFactory().get("/api/x")
    assert json.loads(error_views.permission_denied(request).content)["error"]["code"] == (
        "FORBIDDEN"
    )
    assert json.loads(error_views.bad_request(request).content)["error"]["code"] == ("BAD_REQUEST")
    assert error_views.server_error(request).status_code == 500


def test_invalid_content_length_is_bad_request(client: Any) -> None:
    """A Content-Length that is not a number is BAD_REQUEST before anything is read."""
    response = client.post(
        "/api/raw-json", data=b"[]", content_type="application/json", CONTENT_LENGTH="abc"
    )
    error_of(response, 400, "BAD_REQUEST")


# --------------------------------------------------------------------------- Django validation


def test_django_validation_error_is_field_details_without_values(client: Any) -> None:
    """django ValidationError (full_clean, forms) is VALIDATION_ERROR; %(value)s never appears."""
    response = client.get("/api/model-invalid")
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert {(d["field"], d["message"]) for d in error["details"]} == {
        ("email", "Enter a valid email address."),
        ("uuid", "Invalid value."),
        (None, "Dates overlap."),
    }
    assert b"SENTINEL" not in response.content


def test_flat_django_validation_error_is_interpolated(client: Any) -> None:
    """Non-value params are interpolated into the message."""
    error = error_of(client.get("/api/flat-invalid"), 400, "VALIDATION_ERROR")
    assert error["details"] == [{"field": None, "message": "Ensure this value is at most 5."}]


def test_django_permission_denied_hides_its_reason(client: Any) -> None:
    """PermissionDenied from a view is FORBIDDEN with the catalogue message."""
    response = client.get("/api/denied")
    error_of(response, 403, "FORBIDDEN")
    assert b"secret reason" not in response.content


# --------------------------------------------------------------------------- auth


def test_require_scopes(client: Any, kit: WebKit) -> None:
    """A missing scope is FORBIDDEN; the holder passes."""
    error_of(client.get("/api/scoped", **bearer(kit, scope="users:read")), 403, "FORBIDDEN")
    assert client.get("/api/scoped", **bearer(kit, scope="users:write")).status_code == 200


def test_cookie_transport_with_double_submit() -> None:
    """With CookieAuth, the cookie authenticates GETs; unsafe methods need the CSRF header."""
    kit = use_kit(make_kit(cookie_auth=CookieAuth(secure=False)))
    assert kit.tokens is not None
    client = client_for(URLCONF)
    client.cookies["access_token"] = kit.tokens.issue_access("cookie-user")
    client.cookies["csrf_token"] = "csrf-123"
    me = client.get("/api/cbv/me")
    assert json.loads(me.content)["data"] == {"id": "cookie-user"}
    error_of(client.post("/api/protected-post"), 403, "FORBIDDEN")
    ok = client.post("/api/protected-post", HTTP_X_CSRF_TOKEN="csrf-123")
    assert ok.status_code == 200


def test_get_principal_without_auth_raises() -> None:
    """get_principal on an unprotected request is Unauthenticated, and get_request_id is None."""
    request = RequestFactory().get("/api/x")
    with pytest.raises(Unauthenticated):
        get_principal(request)
    assert get_request_id(request) is None


def test_class_based_mixins(client: Any, kit: WebKit) -> None:
    """AuthRequiredMixin and RateLimitMixin work on class-based views."""
    error_of(client.get("/api/cbv/me"), 401, "UNAUTHENTICATED")
    assert json.loads(client.get("/api/cbv/me", **bearer(kit, "cbv")).content)["data"] == {
        "id": "cbv"
    }
    error_of(client.get("/api/cbv/admin", **bearer(kit)), 403, "FORBIDDEN")
    assert client.get("/api/cbv/admin", **bearer(kit, roles=["admin"])).status_code == 200
    assert client.get("/api/cbv/limited").status_code == 200
    error_of(client.get("/api/cbv/limited"), 429, "RATE_LIMITED")


def test_method_decorator_on_class_based_view(client: Any, kit: WebKit) -> None:
    """require_auth works through Django's method_decorator."""
    error_of(client.get("/api/cbv/decorated"), 401, "UNAUTHENTICATED")
    assert client.get("/api/cbv/decorated", **bearer(kit)).status_code == 200


# --------------------------------------------------------------------------- rate limits


def test_user_keyed_limit_counts_per_user(client: Any, kit: WebKit) -> None:
    """key="user" gives each authenticated user their own budget."""
    alice, bob = bearer(kit, "alice"), bearer(kit, "bob")
    assert [client.get("/api/per-user", **alice).status_code for _ in range(2)] == [200, 200]
    error_of(client.get("/api/per-user", **alice), 429, "RATE_LIMITED")
    assert client.get("/api/per-user", **bob).status_code == 200


def test_callable_key_and_named_rule(client: Any) -> None:
    """A key function picks the bucket (here a tenant header)."""
    assert client.get("/api/per-tenant", HTTP_X_TENANT="a").status_code == 200
    error_of(client.get("/api/per-tenant", HTTP_X_TENANT="a"), 429, "RATE_LIMITED")
    assert client.get("/api/per-tenant", HTTP_X_TENANT="b").status_code == 200


def test_default_rate_limit_applies_to_api_paths_only() -> None:
    """RATE_LIMIT_DEFAULT charges every API request per client address; HTML pages are free."""
    use_kit(make_kit(rate_limit_default="2/minute"))
    client = client_for(URLCONF)
    first = client.get("/api/ok")
    assert first["RateLimit-Limit"] == "2"
    assert client.get("/api/ok").status_code == 200
    denied = client.get("/api/ok")
    error_of(denied, 429, "RATE_LIMITED")
    assert denied["Retry-After"]
    assert [client.get("/html/page").status_code for _ in range(3)] == [200, 200, 200]


def test_health_view_is_never_charged_the_default_limit() -> None:
    """Probes poll /api/health freely; an API view beside it spends the same budget as usual."""
    use_kit(make_kit(rate_limit_default="1/minute"))
    client = client_for(URLCONF)
    health = [client.get("/api/health") for _ in range(3)]
    assert [r.status_code for r in health] == [200, 200, 200]
    assert "RateLimit-Limit" not in health[0]
    # Valid twin: an ordinary API view under the same prefix is limited.
    assert client.get("/api/ok")["RateLimit-Limit"] == "1"
    error_of(client.get("/api/ok"), 429, "RATE_LIMITED")


def test_route_misses_are_charged_the_default_limit() -> None:
    """A request that resolves to no view still spends budget: scanning gets a 429 too."""
    use_kit(make_kit(rate_limit_default="1/minute"))
    client = client_for(URLCONF)
    miss = client.get("/api/no-such-route")
    error_of(miss, 404, "NOT_FOUND")
    assert miss["RateLimit-Remaining"] == "0"
    error_of(client.get("/api/no-such-route"), 429, "RATE_LIMITED")


def test_async_health_view_is_exempt_and_misses_are_charged() -> None:
    """The async middleware makes the same decisions, with a coroutine process_view."""
    use_kit(make_kit(rate_limit_default="1/minute"))
    client = _async_client()
    first, second, miss, denied = _in_turn(
        lambda: client.get("/api/health"),
        lambda: client.get("/api/health"),
        lambda: client.get("/api/no-such-route"),
        lambda: client.get("/api/no-such-route"),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    error_of(miss, 404, "NOT_FOUND")
    error_of(denied, 429, "RATE_LIMITED")
    middleware = BackendKitMiddleware(_async_get_response)
    assert asyncio.iscoroutinefunction(middleware.process_view)
    assert not asyncio.iscoroutinefunction(BackendKitMiddleware(lambda r: r).process_view)


async def _async_get_response(request: Any) -> Any:
    raise AssertionError("not called")


def test_charge_limit_inside_a_view(client: Any) -> None:
    """charge_limit charges a computed key: 429 with headers once spent, per key."""
    post = {"content_type": "application/json", "REMOTE_ADDR": "198.51.100.7"}
    first = client.post("/api/login-account", data={"name": "ann"}, **post)
    assert first.status_code == 200
    assert json.loads(first.content)["data"] == {"key": "198.51.100.7:ann"}
    assert first["RateLimit-Limit"] == "1"
    denied = client.post("/api/login-account", data={"name": "ann"}, **post)
    error_of(denied, 429, "RATE_LIMITED")
    assert denied["Retry-After"]
    # Valid twin: another account from the same address has its own budget.
    assert client.post("/api/login-account", data={"name": "bob"}, **post).status_code == 200


def test_acharge_limit_inside_an_async_view(kit: WebKit) -> None:
    """acharge_limit is the async twin (the async limiter), with the same 429."""
    client = _async_client()

    def login() -> Awaitable[Any]:
        return client.post(
            "/api/async-login-account", data={"name": "ann"}, content_type="application/json"
        )

    first, second = _in_turn(login, login)
    assert first.status_code == 200
    assert first["RateLimit-Remaining"] == "0"
    error_of(second, 429, "RATE_LIMITED")


def test_acharge_limit_falls_back_to_the_sync_limiter() -> None:
    """Without an async limiter, acharge_limit runs the sync one off the event loop."""
    base = make_kit()
    use_kit(WebKit.from_settings(base.settings, tokens=base.tokens, limiter=base.limiter))
    client = _async_client()

    def login() -> Awaitable[Any]:
        return client.post(
            "/api/async-login-account", data={"name": "sync"}, content_type="application/json"
        )

    first, second = _in_turn(login, login)
    assert first.status_code == 200
    error_of(second, 429, "RATE_LIMITED")


def test_charge_limit_rejects_a_literal_key(client: Any) -> None:
    """A key that is neither "ip", "user" nor a function is refused, not counted per address."""
    with capture_logs() as logs:
        error_of(client.get("/api/bad-key"), 500, "INTERNAL_ERROR")
    assert any(e.get("exception_type") == "ConfigurationError" for e in logs)


def test_rate_limit_refuses_a_literal_key_at_decoration() -> None:
    """key="login:x" is ambiguous: refused when the view is decorated, never per request."""
    with pytest.raises(ConfigurationError, match="bucket"):
        rate_limit("1/minute", key="login:x")  # type: ignore[arg-type]


def test_rate_limit_counts_a_literal_bucket(client: Any) -> None:
    """The valid twin: bucket="login:x" is one counter, whatever the client address."""
    assert client.get("/api/literal-bucket", REMOTE_ADDR="198.51.100.1").status_code == 200
    denied = client.get("/api/literal-bucket", REMOTE_ADDR="198.51.100.2")
    error_of(denied, 429, "RATE_LIMITED")


def test_cost_charges_that_many_units(client: Any) -> None:
    """cost=2 spends two units of a 3/minute budget: one request passes, the second is denied."""
    first = client.get("/api/costly")
    assert (first.status_code, first["RateLimit-Remaining"]) == (200, "1")
    error_of(client.get("/api/costly"), 429, "RATE_LIMITED")
    # Valid twin: cost 1 on a budget of three leaves two units.
    assert client.get("/api/cheap")["RateLimit-Remaining"] == "2"


def test_user_key_verifies_the_token_itself(client: Any, kit: WebKit) -> None:
    """Without require_auth, key="user" verifies the token before charging: per user."""
    alice, bob = bearer(kit, "alice"), bearer(kit, "bob")
    assert client.get("/api/per-user-open", **alice).status_code == 200
    error_of(client.get("/api/per-user-open", **alice), 429, "RATE_LIMITED")
    assert client.get("/api/per-user-open", **bob).status_code == 200
    # A token that does not verify is a 401, never a free anonymous budget.
    bad = {"HTTP_AUTHORIZATION": "Bearer not-a-token"}
    error_of(client.get("/api/per-user-open", **bad), 401, "INVALID_TOKEN")


class _SessionUser:
    is_authenticated = True

    def __init__(self, pk: int) -> None:
        self.pk = pk


def test_user_key_counts_the_django_session_user(kit: WebKit) -> None:
    """Without a token, key="user" counts the Django session user, else the address."""
    from tests.adapters._django_test_urls import per_user_open

    def call(user: Any, address: str = "203.0.113.5") -> int:
        request = RequestFactory().get("/api/per-user-open", REMOTE_ADDR=address)
        request.user = user
        try:
            return int(per_user_open(request).status_code)
        except Exception as exc:
            return int(getattr(exc, "status", 500))

    assert [call(_SessionUser(7)), call(_SessionUser(7))] == [200, 429]
    assert call(_SessionUser(8)) == 200  # another session user: their own budget
    anonymous = SimpleLazyObject(lambda: _Anonymous())
    assert [call(anonymous), call(anonymous)] == [200, 429]  # the address's budget
    assert call(anonymous, address="203.0.113.6") == 200


class _Anonymous:
    is_authenticated = False
    pk = None


def test_client_key_behind_trusted_proxies() -> None:
    """client_key(request) reads the resolver's header only from trusted proxies."""
    use_kit(make_kit(trusted_proxies="10.0.0.0/8"))
    factory = RequestFactory()
    proxied = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_key(proxied) == "203.0.113.1"
    direct = factory.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert client_key(direct) == "198.51.100.9"


def test_client_key_reads_the_forwarded_header_when_configured() -> None:
    """With a resolver reading RFC 7239 Forwarded, that header (not X-Forwarded-For) counts."""
    from backendkit.clientip import ClientIPResolver

    base = make_kit()
    kit = WebKit.from_settings(
        base.settings, ip_resolver=ClientIPResolver(["10.0.0.0/8"], header="forwarded")
    )
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="10.0.0.5",
        HTTP_FORWARDED="for=203.0.113.9",
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    assert client_key(request, kit) == "203.0.113.9"


def test_api_prefixes_come_from_the_kit_without_the_key() -> None:
    """With KIT and no API_PREFIXES, the kit's api_prefixes scope the adapter."""
    kit = make_kit(api_prefixes=("/v2/",))
    with override_settings(BACKENDKIT={"KIT": kit}):
        assert current_kit() is kit
        assert current_kit().is_api_path("/v2/x")
        assert not current_kit().is_api_path("/api/x")
    # With both, API_PREFIXES wins: a copy of the kit sharing its services.
    with override_settings(BACKENDKIT={"KIT": kit, "API_PREFIXES": ["/v3/"]}):
        assert current_kit().api_prefixes == ("/v3/",)
        assert current_kit().tokens is kit.tokens


def test_api_prefixes_key_sets_the_built_kit() -> None:
    """BACKENDKIT["API_PREFIXES"] is the core kit's api_prefixes too (one scoping rule)."""
    with override_settings(BACKENDKIT={"ENV": "test", "API_PREFIXES": ["/v1/"]}):
        assert current_kit().api_prefixes == ("/v1/",)
        assert current_kit().is_api_path("/v1/users")
    with override_settings(BACKENDKIT={"ENV": "test"}):
        assert current_kit().api_prefixes == ("/api/",)


def test_default_rate_limit_without_limiter_is_a_configuration_error() -> None:
    """A default limit with no limiter in a hand-built kit stops the middleware from loading
    (the server's start), never a 500 on each request."""
    base = make_kit(rate_limit_default="2/minute")
    use_kit(WebKit(settings=base.settings, tokens=base.tokens))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        client_for(URLCONF).get("/api/ok")
    # Valid twin: from_settings builds the limiter.
    use_kit(WebKit.from_settings(base.settings, tokens=base.tokens))
    assert client_for(URLCONF).get("/api/ok").status_code == 200


def test_rate_limit_decorator_without_limiter_is_a_configuration_error() -> None:
    """rate_limit on a view with no limiter configured is a 500 with the reason logged."""
    base = make_kit()
    use_kit(WebKit(settings=base.settings, tokens=base.tokens))  # by hand: no limiter
    with capture_logs() as logs:
        response = client_for(URLCONF).get("/api/cbv/limited")
    error_of(response, 500, "INTERNAL_ERROR")
    assert any(e.get("exception_type") == "ConfigurationError" for e in logs)


# --------------------------------------------------------------------------- async mode


def test_async_views_through_async_middleware(aclient: Any, kit: WebKit) -> None:
    """Under ASGI the middleware runs in async mode; async views, decorators and errors work."""

    async def scenario() -> list[Any]:
        headers = {
            "Authorization": "Bearer " + (kit.tokens.issue_access("async-u") if kit.tokens else "")
        }
        return [
            await aclient.get("/api/async-me"),
            await aclient.get("/api/async-me", headers=headers),
            await aclient.post(
                "/api/async-echo", data=b'{"name": "a"}', content_type="application/json"
            ),
            await aclient.post(
                "/api/async-echo", data=b'{"name": "a"}', content_type="application/json"
            ),
            await aclient.get("/api/async-boom"),
            await aclient.get("/api/async-not-found"),
            await aclient.get("/api/cbv/async-me", headers=headers),
            await aclient.get("/api/nowhere"),
        ]

    with capture_logs() as logs:
        results = asyncio.run(scenario())
    unauth, me, echo, limited, crash, missing, cbv, nowhere = results
    error_of(unauth, 401, "UNAUTHENTICATED")
    assert json.loads(me.content)["data"] == {"id": "async-u"}
    assert me["Cache-Control"] == "no-store"
    assert json.loads(echo.content)["data"] == {"name": "a", "count": 1}
    assert echo["RateLimit-Remaining"] == "0"
    error_of(limited, 429, "RATE_LIMITED")
    error_of(crash, 500, "INTERNAL_ERROR")
    assert error_of(missing, 404, "NOT_FOUND")["message"] == "No such widget"
    assert json.loads(cbv.content)["data"] == {"id": "async-u"}
    assert cbv["RateLimit-Limit"] == "5"
    error_of(nowhere, 404, "NOT_FOUND")
    events = [e for e in logs if e["event"] == "request_completed"]
    assert len(events) == len(results)
    assert events[1]["user_id"] == "async-u"


def test_async_default_rate_limit_uses_the_async_limiter() -> None:
    """In async mode the default rule is charged with the kit's async limiter."""
    use_kit(make_kit(rate_limit_default="1/minute"))
    client = _async_client()
    first, second = _in_turn(
        lambda: client.get("/api/async-cached"), lambda: client.get("/api/async-cached")
    )
    assert first.status_code == 200
    assert first["Cache-Control"] == "max-age=5"  # the view's own Cache-Control wins
    assert first["ETag"]
    error_of(second, 429, "RATE_LIMITED")


def test_async_default_limit_falls_back_to_the_sync_limiter() -> None:
    """Without an async limiter the sync one is called off the event loop."""
    base = make_kit(rate_limit_default="1/minute")
    use_kit(WebKit.from_settings(base.settings, tokens=base.tokens, limiter=base.limiter))
    client = _async_client()
    first, second = _in_turn(
        lambda: client.get("/api/async-cached"), lambda: client.get("/api/async-cached")
    )
    assert first.status_code == 200
    error_of(second, 429, "RATE_LIMITED")


# --------------------------------------------------------------------------- streaming, logs


def test_streaming_response_keeps_context_and_logs_at_the_end(client: Any) -> None:
    """A streamed body is produced with the request id bound; the access log waits for its end."""
    with capture_logs() as logs:
        response = client.get("/api/stream", HTTP_X_REQUEST_ID="stream-1")
        assert not [e for e in logs if e["event"] == "request_completed"]
        body = b"".join(response.streaming_content)
        response.close()
    assert json.loads(body) == {"requestId": "stream-1"}
    events = [e for e in logs if e["event"] == "request_completed"]
    assert [(e["request_id"], e["status"]) for e in events] == [("stream-1", 200)]


def test_session_user_id_only_when_already_loaded() -> None:
    """The access log names a session user only if the view loaded it (no extra queries)."""
    request = RequestFactory().get("/api/x")
    assert session_user_id(request) is None

    class User:
        is_authenticated = True
        pk = 7

    request.user = SimpleLazyObject(User)
    assert session_user_id(request) is None  # not evaluated yet
    assert request.user.is_authenticated  # the view touches it
    assert session_user_id(request) == "7"


# --------------------------------------------------------------------------- caching, health


def test_etag_and_304(client: Any) -> None:
    """http_cache adds ETag and Cache-Control; a matching If-None-Match is a bodiless 304."""
    first = client.get("/api/cached")
    assert first["Cache-Control"] == "public, max-age=60"
    etag = first["ETag"]
    second = client.get("/api/cached", HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 304
    assert second.content == b""
    assert second["ETag"] == etag
    assert second["Cache-Control"] == "public, max-age=60"
    assert client.get("/api/cached", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_cache_control_without_etag(client: Any) -> None:
    """etag=False only sets Cache-Control."""
    response = client.get("/api/cached-no-etag")
    assert response["Cache-Control"] == "no-cache"
    assert not response.has_header("ETag")


def test_no_store_marks_auth_responses(client: Any) -> None:
    """no_store gives login-like views Cache-Control: no-store."""
    assert client.get("/api/login")["Cache-Control"] == "no-store"


def test_health_view(client: Any) -> None:
    """The health view answers 200 with every check ok, 503 naming the failing one, 405 on POST."""
    healthy = client.get("/api/health")
    assert json.loads(healthy.content)["data"] == {"status": "ok", "checks": {"database": "ok"}}
    failing = client.get("/api/health-failing")
    error = error_of(failing, 503, "SERVICE_UNAVAILABLE")
    assert error["details"] == [{"field": "search", "message": "unavailable"}]
    assert failing["Retry-After"] == "5"  # the retry_after setting's default
    assert not healthy.has_header("Retry-After")
    error_of(client.post("/api/health"), 405, "METHOD_NOT_ALLOWED")


# --------------------------------------------------------------------------- responses


def test_success_and_page_responses() -> None:
    """success_response and page_response render the wire envelopes; 204 has no body."""
    assert json.loads(success_response({"a": 1}, message="hi").content) == {
        "success": True,
        "data": {"a": 1},
        "message": "hi",
    }
    empty = success_response(status=204, headers={"X-Extra": "1"})
    assert empty.content == b""
    assert not empty.has_header("Content-Type")
    assert empty["X-Extra"] == "1"
    page = page_response(Page(items=[1, 2], page=1, per_page=2, total=3, has_next=True))
    assert json.loads(page.content)["pagination"]["totalPages"] == 2
    cursor = page_response(
        CursorPage(
            items=[1], per_page=1, next_cursor="n", prev_cursor=None, has_next=True, has_prev=False
        )
    )
    assert json.loads(cursor.content)["pagination"]["nextCursor"] == "n"


def test_problem_format(client: Any) -> None:
    """error_format="problem" renders application/problem+json through the same paths."""
    use_kit(make_kit(error_format="problem"))
    response = client_for(URLCONF).get("/api/elsewhere")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


# --------------------------------------------------------------------------- settings.BACKENDKIT


def test_backendkit_dict_builds_settings() -> None:
    """Settings fields come from the dict (any case); adapter keys configure the adapter."""
    with override_settings(
        BACKENDKIT={"max_body_bytes": 2048, "ENV": "test", "API_PREFIXES": ["/v1/"]}
    ):
        assert current_kit().max_body_bytes == 2048
        assert current_kit().api_prefixes == ("/v1/",)
        assert current_kit().is_api_path("/v1/users")
        assert not current_kit().is_api_path("/api/users")


def test_django_secret_key_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a backendkit secret, Django's SECRET_KEY (and fallbacks) are used."""
    monkeypatch.delenv("BACKENDKIT_SECRET_KEY", raising=False)
    with override_settings(
        BACKENDKIT={"ENV": "production"},
        SECRET_KEY="django-" + "k" * 40,
        SECRET_KEY_FALLBACKS=["old-" + "k" * 40],
    ):
        keys = current_kit().settings.secret_key
        assert [k.get_secret_value() for k in keys] == ["django-" + "k" * 40, "old-" + "k" * 40]


def test_explicit_secret_wins_over_djangos() -> None:
    """The twin: a SECRET_KEY in the dict is used as given."""
    with override_settings(BACKENDKIT={"SECRET_KEY": "mine-" + "m" * 20}):
        assert current_kit().settings.secret_key[0].get_secret_value() == "mine-" + "m" * 20


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"NO_SUCH_SETTING": 1}, "NO_SUCH_SETTING"),
        ({"MAX_BODY_BYTES": -1}, "MAX_BODY_BYTES"),
        ({"KIT": KIT_PATH, "MAX_BODY_BYTES": 5}, "MAX_BODY_BYTES"),
        ({"KIT": "tests.adapters.test_django.NOT_A_KIT"}, "WebKit"),
        ({"API_PREFIXES": "/api/"}, "API_PREFIXES"),
        ({"API_PREFIXES": ["api/"]}, "API_PREFIXES"),
    ],
)
def test_invalid_backendkit_dict_is_a_configuration_error(
    config: dict[str, Any], message: str
) -> None:
    """Every bad entry is refused with a ConfigurationError naming it."""
    with override_settings(BACKENDKIT=config), pytest.raises(ConfigurationError, match=message):
        current_kit()


NOT_A_KIT = 42


def test_backendkit_must_be_a_dict() -> None:
    """A non-dict BACKENDKIT is refused."""
    with override_settings(BACKENDKIT=["x"]), pytest.raises(ConfigurationError):
        current_kit()


def test_kit_instance_and_factory_are_accepted() -> None:
    """KIT may be a WebKit, or a callable building one; such a kit is not closed by the adapter."""
    kit = make_kit()
    with override_settings(BACKENDKIT={"KIT": kit}):
        assert current_kit() is kit
    with override_settings(BACKENDKIT={"KIT": lambda: kit}):
        assert current_kit() is kit


def test_kit_is_cached_and_rebuilt_on_change() -> None:
    """The kit is built once; override_settings rebuilds it."""
    first = current_kit()
    assert current_kit() is first
    assert first.tokens is _django_app.current_kit().tokens
    with override_settings(BACKENDKIT={"ENV": "test"}):
        assert current_kit() is not first


def test_import_without_django_names_the_extra() -> None:
    """Importing the adapter without Django raises the ImportError naming backendkit[django]."""
    code = (
        "import sys; sys.modules['django'] = None\n"
        "try:\n    import backendkit.adapters.django\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "backendkit[django]" in result.stdout
