"""Flask adapter: the extension pattern, config, hooks and decorators beyond the shared suite."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask, abort, request
from tests.adapters._apps import MAX_BODY, Probe, build_flask_app, make_kit, make_settings

from backendkit.adapters import flask as bk_flask
from backendkit.adapters.flask import BackendKit, settings_from_config
from backendkit.errors import ConfigurationError
from backendkit.listing import CursorPage, Page, PageParams
from backendkit.logging import current_request_id
from backendkit.responses import success
from backendkit.testing import capture_logs
from backendkit.web import CookieAuth, WebKit, cache_control


def bearer(kit: WebKit, sub: str = "u1", **claims: Any) -> dict[str, str]:
    assert kit.tokens is not None
    return {"Authorization": "Bearer " + kit.tokens.issue_access(sub, claims=claims)}


@pytest.fixture
def kit() -> WebKit:
    return make_kit()


def make_app(kit: WebKit) -> Flask:
    app = Flask("flask_features")
    BackendKit(app, kit=kit)

    @app.get("/by-user")
    @bk_flask.rate_limit("1/minute", key="user")
    def by_user() -> Any:
        return success()

    @app.get("/by-tenant")
    @bk_flask.rate_limit("1/minute", key=lambda req: req.headers.get("X-Tenant", "-"))
    def by_tenant() -> Any:
        return success()

    @app.get("/scoped")
    @bk_flask.require_scopes("read", "write")
    def scoped() -> Any:
        return success()

    @app.get("/maybe")
    def maybe() -> Any:
        user = bk_flask.current_user()
        return success({"user": user.user_id if user else None})

    @app.post("/login")
    @bk_flask.no_store
    def login() -> Any:
        return success({"token": "t"})

    @app.post("/cookie")
    @bk_flask.require_auth
    def cookie() -> Any:
        user = bk_flask.current_user()
        assert user is not None
        return success({"user": user.user_id})

    @app.get("/page")
    @bk_flask.paginate
    def page(params: PageParams) -> Any:
        return Page(["a", "b"], page=params.page, per_page=params.per_page, total=2, has_next=False)

    @app.get("/cursor")
    @bk_flask.paginate(kind="cursor")
    def cursor(params: Any) -> Any:
        return CursorPage(
            ["x"],
            per_page=params.per_page,
            next_cursor=None,
            prev_cursor=None,
            has_next=False,
            has_prev=False,
        )

    @app.get("/etag")
    def etag() -> Any:
        return bk_flask.conditional_json(
            success({"v": 1}), cache_control=cache_control(max_age=30, public=True)
        )

    @app.post("/get-json")
    def get_json() -> Any:
        return success({"got": request.get_json()})

    @app.get("/custom-404")
    def custom_404() -> Any:
        abort(404, description="Widget gone")

    @app.get("/abort-500")
    def abort_500() -> Any:
        abort(500, description="db password is hunter2")

    @app.get("/dir/")
    def directory() -> Any:
        return success()

    @app.get("/a/b")
    def merged() -> Any:
        return success()

    @app.get("/cycle")
    def cycle() -> Any:
        return success({"id": bk_flask.current_cycle().request_id})

    return app


# --------------------------------------------------------------------------- extension


def test_init_app_factory_pattern_and_state(kit: WebKit) -> None:
    """BackendKit() then init_app(app) keeps state in app.extensions, not on the extension."""
    extension = BackendKit(kit=kit)
    first, second = Flask("a"), Flask("b")
    extension.init_app(first)
    extension.init_app(second, kit=make_kit())
    assert "backendkit" in first.extensions
    assert first.extensions["backendkit"].kit is kit
    assert second.extensions["backendkit"].kit is not kit


def test_init_twice_is_refused(kit: WebKit) -> None:
    """Initialising the same app twice is a configuration error."""
    app = Flask("twice")
    BackendKit(app, kit=kit)
    with pytest.raises(ConfigurationError):
        BackendKit(app, kit=kit)


def test_config_keys_build_the_settings() -> None:
    """Without a kit, BACKENDKIT_* keys in app.config configure the app (over the env)."""
    app = Flask("configured")
    app.config.update(BACKENDKIT_ENV="test", BACKENDKIT_MAX_BODY_BYTES=10)
    BackendKit(app)
    assert app.extensions["backendkit"].kit.max_body_bytes == 10

    @app.post("/x")
    @bk_flask.json_body(PageParams)
    def x(body: PageParams) -> Any:
        return success()

    response = app.test_client().post("/x", json={"page": 1, "perPage": 5})
    assert response.status_code == 413


def test_invalid_config_is_a_configuration_error() -> None:
    """A bad BACKENDKIT_* value names the key."""
    with pytest.raises(ConfigurationError, match="BACKENDKIT_MAX_BODY_BYTES"):
        settings_from_config({"BACKENDKIT_ENV": "test", "BACKENDKIT_MAX_BODY_BYTES": "lots"})


def test_kit_is_closed_at_exit(monkeypatch: pytest.MonkeyPatch, kit: WebKit) -> None:
    """init_app registers the kit's close() to run when the worker exits."""
    registered: list[Any] = []
    monkeypatch.setattr(bk_flask.atexit, "register", registered.append)
    BackendKit(Flask("exit"), kit=kit)
    assert registered == [kit.close]


def test_helpers_need_the_extension() -> None:
    """Using the helpers on an app without BackendKit fails with a clear error."""
    app = Flask("bare")
    with app.test_request_context("/"), pytest.raises(ConfigurationError):
        bk_flask.current_kit()


# --------------------------------------------------------------------------- bodies


def test_chunked_body_over_the_cap_is_413(kit: WebKit) -> None:
    """A body without Content-Length is cut off at the cap while it is read."""
    client = build_flask_app(kit, Probe()).test_client()
    response = client.post(
        "/echo",
        input_stream=io.BytesIO(b'{"name": "' + b"x" * (MAX_BODY * 2) + b'"}'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_small_chunked_body_is_read(kit: WebKit) -> None:
    """The valid twin: a chunked body under the cap is read."""
    client = build_flask_app(kit, Probe()).test_client()
    response = client.post(
        "/echo",
        input_stream=io.BytesIO(b'{"name": "chunky"}'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200
    assert response.get_json()["data"]["name"] == "chunky"


def test_get_json_is_safe_too(kit: WebKit) -> None:
    """Even Flask's own get_json() parses through the core: deep nesting is a 400."""
    client = make_app(kit).test_client()
    deep = client.post("/get-json", data=b"[" * 1000, headers={"Content-Type": "application/json"})
    assert deep.status_code == 400
    assert deep.get_json()["error"]["code"] == "BAD_REQUEST"
    ok = client.post("/get-json", json={"a": [1, 2]})
    assert ok.get_json()["data"] == {"got": {"a": [1, 2]}}


# --------------------------------------------------------------------------- werkzeug errors


def test_abort_with_a_description_keeps_it(kit: WebKit) -> None:
    """abort(404, description=...) keeps the app's own client-facing message."""
    response = make_app(kit).test_client().get("/custom-404")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Widget gone"


def test_abort_500_never_shows_its_description(kit: WebKit) -> None:
    """A 5xx description could carry internals: the generic message is used."""
    response = make_app(kit).test_client().get("/abort-500")
    assert response.status_code == 500
    assert b"hunter2" not in response.data
    assert response.get_json()["error"]["code"] == "INTERNAL_ERROR"


def test_routing_redirect_is_not_an_error(kit: WebKit) -> None:
    """werkzeug's strict-slash redirect passes through as a bodiless redirect."""
    response = make_app(kit).test_client().get("/dir", headers={"X-Request-ID": "redir-1"})
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/dir/")
    assert response.headers["X-Request-ID"] == "redir-1"
    assert response.data == b""  # not werkzeug's HTML page
    assert "text/html" not in response.headers.get("Content-Type", "")
    # Valid twin: following the redirect reaches the route.
    assert make_app(kit).test_client().get("/dir/").status_code == 200


def test_redirect_exception_raised_by_a_view_is_bodiless(kit: WebKit) -> None:
    """A 3xx HTTPException the app raises is answered as a bare redirect, not an error."""
    from werkzeug.exceptions import HTTPException

    class Moved(HTTPException):
        code = 302

        def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
            return [("Content-Type", "text/html"), ("Location", "/elsewhere")]

    app = make_app(kit)

    @app.get("/moved")
    def moved() -> Any:
        raise Moved()

    response = app.test_client().get("/moved")
    assert response.status_code == 302
    assert response.headers["Location"] == "/elsewhere"
    assert response.data == b""
    assert response.headers["X-Request-ID"]


def test_merge_slashes_redirect_is_bodiless(kit: WebKit) -> None:
    """A merge_slashes redirect (//dir/ -> /dir/) also loses werkzeug's HTML body."""
    response = make_app(kit).test_client().get("/a//b")
    assert response.status_code == 308
    assert response.headers["Location"].endswith("/a/b")
    assert response.data == b""
    assert response.headers["X-Request-ID"]


# --------------------------------------------------------------------------- decorators


def test_user_keyed_limit_counts_per_user(kit: WebKit) -> None:
    """key="user" counts each user separately; anonymous requests share the address bucket."""
    client = make_app(kit).test_client()
    assert client.get("/by-user", headers=bearer(kit, "a")).status_code == 200
    assert client.get("/by-user", headers=bearer(kit, "a")).status_code == 429
    assert client.get("/by-user", headers=bearer(kit, "b")).status_code == 200
    assert client.get("/by-user").status_code == 200
    assert client.get("/by-user").status_code == 429


def test_user_key_verifies_the_token_first(kit: WebKit) -> None:
    """key="user" counts only verified users: a forged token is a 401, never a bucket."""
    client = make_app(kit).test_client()
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.get("/by-user", headers=forged).status_code == 401
    # Valid twin: a verified user is charged under their own bucket.
    assert client.get("/by-user", headers=bearer(kit, "c")).status_code == 200


def test_key_function(kit: WebKit) -> None:
    """A key function of the flask.Request picks the bucket."""
    client = make_app(kit).test_client()
    assert client.get("/by-tenant", headers={"X-Tenant": "acme"}).status_code == 200
    assert client.get("/by-tenant", headers={"X-Tenant": "acme"}).status_code == 429
    assert client.get("/by-tenant", headers={"X-Tenant": "other"}).status_code == 200


def test_a_literal_key_string_is_refused_at_decoration() -> None:
    """key="login:x" is ambiguous: a ConfigurationError when decorating, not a bucket."""
    with pytest.raises(ConfigurationError, match="bucket="):
        bk_flask.rate_limit("1/minute", key="login:x")  # type: ignore[arg-type]


def test_a_literal_bucket_is_shared_by_every_caller(kit: WebKit) -> None:
    """The valid twin: bucket="login:x" counts every request in one bucket."""
    app = Flask("flask_bucket")
    BackendKit(app, kit=kit)

    @app.get("/shared")
    @bk_flask.rate_limit("1/minute", bucket="login:x")
    def shared() -> Any:
        return success()

    client = app.test_client()
    assert client.get("/shared", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/shared", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 429


def test_cost_charges_several_units(kit: WebKit) -> None:
    """cost=2 takes two units a request: a 3/minute limit allows one request, not three."""
    app = Flask("flask_cost")
    BackendKit(app, kit=kit)

    @app.get("/dear")
    @bk_flask.rate_limit("3/minute", cost=2)
    def dear() -> Any:
        return success()

    @app.get("/cheap")
    @bk_flask.rate_limit("3/minute")
    def cheap() -> Any:
        return success()

    client = app.test_client()
    first = client.get("/dear")
    assert (first.status_code, first.headers["RateLimit-Remaining"]) == (200, "1")
    assert client.get("/dear").status_code == 429
    # Valid twin: at the default cost of 1 the same limit allows three.
    assert [client.get("/cheap").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_trusted_proxy_header() -> None:
    """Behind a trusted proxy X-Forwarded-For picks the client; from others it is ignored."""
    kit = make_kit(trusted_proxies="10.0.0.0/8", rate_limit_default="1/minute", api_prefixes=("/",))
    client = make_app(kit).test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    forwarded = {"X-Forwarded-For": "203.0.113.1"}
    assert client.get("/maybe", headers=forwarded, environ_base=proxy).status_code == 200
    assert client.get("/maybe", headers=forwarded, environ_base=proxy).status_code == 429
    other = {"X-Forwarded-For": "203.0.113.2"}
    assert client.get("/maybe", headers=other, environ_base=proxy).status_code == 200
    direct = {"REMOTE_ADDR": "198.51.100.9"}
    assert client.get("/maybe", headers=forwarded, environ_base=direct).status_code == 200
    assert client.get("/maybe", headers=other, environ_base=direct).status_code == 429


def test_limits_need_a_limiter() -> None:
    """A default limit without a sync limiter is refused by init_app, not answered 500."""
    kit = WebKit(settings=make_settings(rate_limit_default="1/minute"), api_prefixes=("/",))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        make_app(kit)
    # Valid twin: from_settings builds the limiter the setting needs.
    built = WebKit.from_settings(make_settings(rate_limit_default="1/minute"), api_prefixes=["/"])
    client = make_app(built).test_client()
    assert [client.get("/maybe").status_code for _ in range(2)] == [200, 429]


def scoped_app(kit: WebKit) -> Flask:
    app = Flask("flask_scoped")
    BackendKit(app, kit=kit)

    @app.get("/api/items")
    def items() -> Any:
        return success([])

    @app.get("/page")
    def page() -> Any:
        return success()

    bk_flask.add_health_route(app, "/api/health")
    return app


def test_default_rate_limit_is_scoped_to_api_prefixes() -> None:
    """By default only paths under /api/ are charged; other paths are never throttled."""
    client = scoped_app(make_kit(rate_limit_default="2/minute")).test_client()
    pages = [client.get("/page") for _ in range(4)]
    assert [r.status_code for r in pages] == [200] * 4
    assert "RateLimit-Limit" not in pages[0].headers
    assert client.get("/api/items").headers["RateLimit-Limit"] == "2"
    assert client.get("/api/items").status_code == 200
    assert client.get("/api/items").status_code == 429


def test_health_route_is_never_charged_the_default_limit() -> None:
    """add_health_route's route is exempt even under an API prefix."""
    client = scoped_app(make_kit(rate_limit_default="1/minute")).test_client()
    probes = [client.get("/api/health") for _ in range(3)]
    assert [r.status_code for r in probes] == [200] * 3
    assert "RateLimit-Limit" not in probes[0].headers
    # Valid twin: the API route next to it is charged.
    assert client.get("/api/items").status_code == 200
    assert client.get("/api/items").status_code == 429


def test_health_route_needs_the_extension_first() -> None:
    """add_health_route on an app without BackendKit is refused (it registers the exemption)."""
    with pytest.raises(ConfigurationError, match="BackendKit"):
        bk_flask.add_health_route(Flask("no_kit"), "/health")
    # Valid twin: after BackendKit it mounts.
    app = Flask("kit_first")
    BackendKit(app, kit=make_kit())
    bk_flask.add_health_route(app, "/health")
    assert app.test_client().get("/health").status_code == 200


def test_health_route_refuses_an_unknown_probe_keyword_when_mounted() -> None:
    """A misspelt probe keyword is a TypeError at add_health_route, not a 500 per probe."""
    app = Flask("probe_typo")
    BackendKit(app, kit=make_kit())
    with pytest.raises(TypeError):
        bk_flask.add_health_route(app, "/health", databse=lambda: True)
    # Valid twin: the right keyword mounts and probes.
    bk_flask.add_health_route(app, "/health", database=lambda: True)
    assert app.test_client().get("/health").get_json()["data"]["checks"] == {"database": "ok"}


def test_client_key_helper() -> None:
    """client_key() is the current request's address behind trusted proxies."""
    app = Flask("flask_client_key")
    BackendKit(app, kit=make_kit(trusted_proxies="10.0.0.0/8"))

    @app.get("/ip")
    def ip() -> Any:
        return success(bk_flask.client_key())

    client = app.test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.1"}
    proxied = client.get("/ip", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.5"})
    assert proxied.get_json()["data"] == "203.0.113.1"
    direct = client.get("/ip", headers=forwarded, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert direct.get_json()["data"] == "198.51.100.9"


def test_scopes(kit: WebKit) -> None:
    """require_scopes needs every scope."""
    client = make_app(kit).test_client()
    assert client.get("/scoped", headers=bearer(kit, scopes=["read"])).status_code == 403
    assert client.get("/scoped", headers=bearer(kit, scopes=["read", "write"])).status_code == 200


def test_current_user_is_optional(kit: WebKit) -> None:
    """current_user() is None without credentials and the principal with them."""
    client = make_app(kit).test_client()
    assert client.get("/maybe").get_json()["data"] == {"user": None}
    assert client.get("/maybe", headers=bearer(kit, "q")).get_json()["data"] == {"user": "q"}


def test_no_store(kit: WebKit) -> None:
    """@no_store marks an anonymous auth route no-store."""
    assert make_app(kit).test_client().post("/login").headers["Cache-Control"] == "no-store"


def test_cookie_transport_with_csrf() -> None:
    """With cookie transport, unsafe methods need the CSRF header to match the cookie."""
    kit = make_kit(cookie_auth=CookieAuth(secure=False))
    assert kit.tokens is not None
    client = make_app(kit).test_client()
    client.set_cookie("access_token", kit.tokens.issue_access("cookie-user"))
    client.set_cookie("csrf_token", "c" * 20)
    assert client.post("/cookie").status_code == 403
    assert client.post("/cookie", headers={"X-CSRF-Token": "c" * 19 + "d"}).status_code == 403
    ok = client.post("/cookie", headers={"X-CSRF-Token": "c" * 20})
    assert ok.get_json()["data"] == {"user": "cookie-user"}


def test_paginate_renders_page_envelopes(kit: WebKit) -> None:
    """@paginate passes params and renders a returned Page or CursorPage as its envelope."""
    client = make_app(kit).test_client()
    page = client.get("/page?perPage=5").get_json()
    assert page == {
        "success": True,
        "data": ["a", "b"],
        "pagination": {"page": 1, "perPage": 5, "total": 2, "totalPages": 1},
    }
    cursor = client.get("/cursor").get_json()
    assert cursor["pagination"]["hasNext"] is False
    assert client.get("/cursor?perPage=500").status_code == 400


def test_etag_and_304(kit: WebKit) -> None:
    """conditional_json sets a strong ETag; a matching If-None-Match gets an empty 304."""
    client = make_app(kit).test_client()
    first = client.get("/etag")
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=30"
    second = client.get("/etag", headers={"If-None-Match": tag})
    assert second.status_code == 304
    assert second.data == b""
    assert "Content-Type" not in second.headers
    assert second.headers["X-Request-ID"]


def test_current_cycle_matches_header(kit: WebKit) -> None:
    """current_cycle() gives the id the response carries."""
    response = make_app(kit).test_client().get("/cycle")
    assert response.get_json()["data"]["id"] == response.headers["X-Request-ID"]


def test_health_route(kit: WebKit) -> None:
    """The health route is 200 when every probe answers and 503 naming the failed one."""
    app = make_app(kit)

    def broken() -> bool:
        raise ConnectionError("down")

    bk_flask.add_health_route(app, database=lambda: True, redis=broken)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["error"]["details"] == [{"field": "redis", "message": "unavailable"}]
    assert response.headers["Retry-After"] == "5"  # the retry_after setting's default


def test_missing_flask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing the adapter without Flask raises the ImportError that names the extra."""
    import importlib
    import sys

    from backendkit.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "flask", None)
    monkeypatch.delitem(sys.modules, "backendkit.adapters.flask")
    with pytest.raises(MissingDependencyError, match=r"backendkit\[flask\]"):
        importlib.import_module("backendkit.adapters.flask")


def charging_app(kit: WebKit) -> Flask:
    app = Flask("flask_charging")
    BackendKit(app, kit=kit)

    @app.post("/api/login")
    def login() -> Any:
        account = (request.get_json() or {}).get("name", "")
        bk_flask.charge_limit("1/minute", bucket=f"login:{account}", name="login-account")
        return success({"account": account})

    return app


def test_charge_limit_inside_a_view() -> None:
    """charge_limit charges a computed key: headers while allowed, 429 once spent, per key."""
    client = charging_app(make_kit()).test_client()
    first = client.post("/api/login", json={"name": "ann"})
    assert first.status_code == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("1", "0")
    denied = client.post("/api/login", json={"name": "ann"})
    assert denied.status_code == 429
    assert denied.json["error"]["code"] == "RATE_LIMITED"
    assert denied.headers["Retry-After"]
    # Valid twin: another key has its own budget.
    assert client.post("/api/login", json={"name": "bob"}).status_code == 200


def test_charge_limit_refuses_a_literal_key() -> None:
    """charge_limit(key="login:...") is a ConfigurationError (500, logged): bucket= it is."""
    app = Flask("flask_literal_key")
    BackendKit(app, kit=make_kit())

    @app.post("/api/login")
    def login() -> Any:
        bk_flask.charge_limit("1/minute", key="login:ann", name="login")  # type: ignore[arg-type]
        return success()

    with capture_logs() as logs:
        assert app.test_client().post("/api/login").status_code == 500
    assert any(isinstance(e.get("exc_info"), ConfigurationError) for e in logs)
    # Valid twin: the same literal under bucket= is charged.
    assert charging_app(make_kit()).test_client().post("/api/login", json={}).status_code == 200


def test_charge_limit_needs_a_limiter() -> None:
    """Without a sync limiter in the kit charge_limit is a ConfigurationError (500, logged)."""
    kit = WebKit(settings=make_settings())  # by hand: from_settings would build one
    with capture_logs() as logs:
        assert charging_app(kit).test_client().post("/api/login", json={}).status_code == 500
    assert any(isinstance(e.get("exc_info"), ConfigurationError) for e in logs)


def test_streamed_body_keeps_context_and_logs_at_the_end(kit: WebKit) -> None:
    """As in the other adapters: the body is produced with the request id bound, and the
    one access-log line is written when the body is closed, not at Flask's teardown."""
    app = Flask("streaming")
    BackendKit(app, kit=kit)

    @app.get("/api/stream")
    def stream() -> Any:
        def body() -> Any:
            yield b'{"requestId": "'
            yield (current_request_id() or "").encode()  # the log context, not Flask's
            yield b'"}'

        return app.response_class(body(), mimetype="application/json")

    with capture_logs() as logs:
        response = app.test_client().get(
            "/api/stream", headers={"X-Request-ID": "stream-1"}, buffered=False
        )
        assert not [e for e in logs if e["event"] == "request_completed"]
        body = b"".join(response.response)
        response.close()
    assert body == b'{"requestId": "stream-1"}'
    events = [e for e in logs if e["event"] == "request_completed"]
    assert [(e["request_id"], e["status"]) for e in events] == [("stream-1", 200)]
