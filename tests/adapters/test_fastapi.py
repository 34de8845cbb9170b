"""FastAPI adapter: what the shared suite cannot see (OpenAPI, ASGI layering, dependencies)."""

# No `from __future__ import annotations`: FastAPI resolves route annotations at runtime.
import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from tests.adapters._apps import MAX_BODY, EchoIn, Probe, build_fastapi_app, make_kit, make_settings

from backendkit.adapters.fastapi import (
    BackendKitMiddleware,
    ClientKey,
    CurrentUser,
    CursorPagination,
    JsonBody,
    OptionalUser,
    RateLimit,
    add_health_route,
    charge_limit,
    client_key,
    conditional_json,
    current_cycle,
    current_kit,
    install,
    no_store,
    require_scopes,
)
from backendkit.errors import ConfigurationError
from backendkit.responses import Envelope, PageEnvelope, success
from backendkit.testing import capture_logs
from backendkit.web import CookieAuth, WebKit, cache_control

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient


def client_for(app: FastAPI, **kwargs: Any) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, **kwargs)


def bearer(kit: WebKit, sub: str = "u1", **claims: Any) -> dict[str, str]:
    assert kit.tokens is not None
    return {"Authorization": "Bearer " + kit.tokens.issue_access(sub, claims=claims)}


@pytest.fixture
def kit() -> WebKit:
    return make_kit()


# --------------------------------------------------------------------------- install


def test_install_twice_is_refused(kit: WebKit) -> None:
    """A second install on the same app is a configuration error, not a double stack."""
    app = FastAPI()
    install(app, kit)
    with pytest.raises(ConfigurationError):
        install(app, kit)


def test_dependencies_need_install() -> None:
    """Using a dependency on an app without install() fails loudly (500 + clear log)."""
    app = FastAPI()

    @app.get("/x")
    async def x(request: Request) -> dict[str, Any]:
        current_kit(request)
        return {}

    with pytest.raises(ConfigurationError):
        TestClient(app).get("/x")


def test_lifespan_closes_the_kit() -> None:
    """Shutting the app down awaits the kit's closers (pools are closed)."""
    closed: list[str] = []

    async def aclose() -> None:
        closed.append("async")

    kit = WebKit.from_settings(make_settings(), closers=[aclose, lambda: closed.append("sync")])
    app = FastAPI()
    install(app, kit)
    with client_for(app):
        assert closed == []
    assert closed == ["async", "sync"]


async def bare_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hi"})


def test_middleware_wraps_any_asgi_app(kit: WebKit) -> None:
    """BackendKitMiddleware also works by hand around a plain ASGI app."""
    client = client_for(BackendKitMiddleware(bare_app, kit))
    response = client.get("/", headers={"X-Request-ID": "by-hand"})
    assert response.text == "hi"
    assert response.headers["X-Request-ID"] == "by-hand"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hand_wrapped_middleware_charges_the_default_limit() -> None:
    """By hand, the middleware charges the app-wide default limit as install() does."""
    kit = make_kit(rate_limit_default="2/minute", api_prefixes=("/api/",))
    client = client_for(BackendKitMiddleware(bare_app, kit))
    answers = [client.get("/api/x") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert answers[2].json()["error"]["code"] == "RATE_LIMITED"
    # Valid twin: outside the API prefixes nothing is charged.
    assert [client.get("/page").status_code for _ in range(3)] == [200] * 3


def test_hand_wrapped_middleware_checks_the_kit() -> None:
    """A kit that cannot serve async requests is refused when the middleware is built."""
    kit = WebKit(settings=make_settings(rate_limit_default="2/minute"))
    with pytest.raises(ConfigurationError, match="async_limiter"):
        BackendKitMiddleware(bare_app, kit)


# --------------------------------------------------------------------------- ASGI layering


def test_chunked_body_over_the_cap_is_413(kit: WebKit) -> None:
    """A body without Content-Length is counted while it arrives and cut off at the cap."""
    client = client_for(build_fastapi_app(kit, Probe()))

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}'

    response = client.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_small_chunked_body_is_read(kit: WebKit) -> None:
    """The valid twin: a chunked body under the cap is read normally."""
    client = client_for(build_fastapi_app(kit, Probe()))

    def chunks() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"chunky"}'

    response = client.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "chunky"


def test_invalid_content_length_is_400(kit: WebKit) -> None:
    """A Content-Length that is not a number is refused before the app runs."""
    client = client_for(build_fastapi_app(kit, Probe()))
    response = client.get("/ok", headers={"Content-Length": "-5"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


class Item(BaseModel):
    name: str


def native_body_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.post("/native")
    async def native(item: Item) -> dict[str, Any]:
        return success(item)

    @app.post("/raw")
    async def raw(payload: Annotated[Any, Body()]) -> dict[str, Any]:
        return success(payload)

    return app


def test_fastapi_body_params_respect_the_cap(kit: WebKit) -> None:
    """Bodies read by FastAPI's own parameters are capped too (413, not FastAPI's 400)."""
    client = client_for(native_body_app(kit))
    response = client.post("/native", json={"name": "x" * (MAX_BODY + 10)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_fastapi_body_params_malformed_json_is_bad_request(kit: WebKit) -> None:
    """Malformed JSON read by FastAPI's own parser is BAD_REQUEST, not VALIDATION_ERROR."""
    client = client_for(native_body_app(kit))
    response = client.post(
        "/native", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_fastapi_body_params_validation_is_400(kit: WebKit) -> None:
    """FastAPI's RequestValidationError is a 400 VALIDATION_ERROR naming the field."""
    client = client_for(native_body_app(kit))
    response = client.post("/native", json={})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [{"field": "name", "message": "Name is required"}]


def test_fastapi_native_deep_json_is_a_400() -> None:
    """Deep JSON through FastAPI's own parser is a 400 envelope, never a 500."""
    client = client_for(native_body_app(make_kit(max_body_bytes=200_000)))
    response = client.post(
        "/raw", content=b"[" * 50_000 + b"]" * 50_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_500_keeps_cors_headers(kit: WebKit) -> None:
    """An unhandled error is answered inside the user middleware, so CORS still applies."""
    app = build_fastapi_app(kit, Probe())
    app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])
    response = client_for(app).get("/boom", headers={"Origin": "https://example.com"})
    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert response.json()["error"]["requestId"] == response.headers["X-Request-ID"]


def _layers(app: FastAPI) -> list[str]:
    names, layer = [], app.build_middleware_stack()
    while layer is not None and not isinstance(layer, APIRouter):
        names.append(type(layer).__name__)
        layer = getattr(layer, "app", None)
    return names


def test_the_error_catcher_is_a_layer_only_around_user_middleware(kit: WebKit) -> None:
    """With no user middleware the outer layer renders errors itself (one layer less per
    request); with some, the catcher sits inside them, and stays after a rebuild."""
    plain = build_fastapi_app(kit, Probe())
    assert "ErrorCatcher" not in _layers(plain)
    assert _layers(plain)[0] == "BackendKitMiddleware"
    response = client_for(plain).get("/boom", headers={"X-Request-ID": "plain-1"})
    assert response.status_code == 500
    assert response.json()["error"]["requestId"] == "plain-1"
    with_user = build_fastapi_app(make_kit(), Probe())
    with_user.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])
    layers = _layers(with_user)
    assert layers.index("CORSMiddleware") < layers.index("ErrorCatcher")
    assert _layers(plain) == _layers(plain)  # building twice changes nothing


def test_error_in_user_middleware_is_still_enveloped(kit: WebKit) -> None:
    """An exception raised by user middleware itself still gets the envelope and request id."""
    app = build_fastapi_app(kit, Probe())

    class Exploding:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                raise RuntimeError("middleware failed")
            await self.app(scope, receive, send)

    app.add_middleware(Exploding)
    with capture_logs() as logs:
        response = client_for(app).get("/ok", headers={"X-Request-ID": "mw-1"})
    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "An unexpected error occurred",
        "details": [],
        "requestId": "mw-1",
    }
    assert response.headers["X-Request-ID"] == "mw-1"
    assert [e["event"] for e in logs].count("unhandled_exception") == 1


def test_failure_after_response_started_is_logged(kit: WebKit) -> None:
    """A stream that fails mid-way cannot be enveloped; it is logged with the request id."""
    app = FastAPI()
    install(app, kit)

    async def stream() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("stream broke")

    @app.get("/stream")
    async def streaming() -> StreamingResponse:
        return StreamingResponse(stream())

    with capture_logs() as logs:
        response = client_for(app).get("/stream", headers={"X-Request-ID": "st-1"})
    assert response.status_code == 200
    events = [e for e in logs if "unhandled" in e["event"]]
    assert events
    assert all(e.get("request_id") == "st-1" for e in events)


def test_context_survives_background_tasks(kit: WebKit) -> None:
    """Code run after the response is sent (background tasks) still logs the request id."""
    from fastapi import BackgroundTasks

    from backendkit.logging import current_request_id

    seen: list[str | None] = []
    app = FastAPI()
    install(app, kit)

    @app.get("/bg")
    async def bg(tasks: BackgroundTasks) -> dict[str, Any]:
        tasks.add_task(lambda: seen.append(current_request_id()))
        return success()

    client_for(app).get("/bg", headers={"X-Request-ID": "bg-1"})
    assert seen == ["bg-1"]


# --------------------------------------------------------------------------- dependencies


def deps_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    async def tenant(request: Request) -> str:
        return request.headers.get("X-Tenant", "none")

    @app.get("/by-user", dependencies=[RateLimit("1/minute", key="user")])
    async def by_user() -> dict[str, Any]:
        return success()

    @app.get("/by-tenant", dependencies=[RateLimit("1/minute", key=tenant, name="tenant")])
    async def by_tenant() -> dict[str, Any]:
        return success()

    @app.get("/by-sync-key", dependencies=[RateLimit("1/minute", key=lambda r: "fixed")])
    async def by_sync_key() -> dict[str, Any]:
        return success()

    @app.get("/by-ip", dependencies=[RateLimit("1/minute")])
    async def by_ip() -> dict[str, Any]:
        return success()

    @app.get("/scoped", dependencies=[require_scopes("read", "write")])
    async def scoped() -> dict[str, Any]:
        return success()

    @app.get("/maybe")
    async def maybe(user: OptionalUser) -> dict[str, Any]:
        return success({"user": user.user_id if user else None})

    @app.post("/login", dependencies=[Depends(no_store)])
    async def login() -> dict[str, Any]:
        return success({"token": "t"})

    @app.post("/cookie")
    async def cookie(user: CurrentUser) -> dict[str, Any]:
        return success({"user": user.user_id})

    @app.get("/cursor")
    async def cursor(params: CursorPagination) -> dict[str, Any]:
        return success({"cursor": params.cursor, "perPage": params.per_page})

    @app.get("/etag")
    async def etag(request: Request) -> Any:
        return conditional_json(
            request, success({"v": 1}), cache_control=cache_control(max_age=60, public=True)
        )

    @app.get("/cycle")
    async def cycle(request: Request) -> dict[str, Any]:
        return success({"id": current_cycle(request).request_id})

    return app


def test_user_keyed_limit_counts_per_user(kit: WebKit) -> None:
    """key="user" verifies the token first and counts each user separately."""
    client = client_for(deps_app(kit))
    assert client.get("/by-user", headers=bearer(kit, "a")).status_code == 200
    assert client.get("/by-user", headers=bearer(kit, "a")).status_code == 429
    assert client.get("/by-user", headers=bearer(kit, "b")).status_code == 200
    # Anonymous requests fall back to the client address: their own bucket.
    assert client.get("/by-user").status_code == 200
    assert client.get("/by-user").status_code == 429


def test_user_keyed_limit_rejects_bad_tokens_before_charging(kit: WebKit) -> None:
    """An invalid token on a user-keyed route is a 401, not a charge against someone."""
    client = client_for(deps_app(kit))
    response = client.get("/by-user", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401


def test_custom_key_functions(kit: WebKit) -> None:
    """Async and sync key functions pick the bucket."""
    client = client_for(deps_app(kit))
    assert client.get("/by-tenant", headers={"X-Tenant": "acme"}).status_code == 200
    assert client.get("/by-tenant", headers={"X-Tenant": "acme"}).status_code == 429
    assert client.get("/by-tenant", headers={"X-Tenant": "other"}).status_code == 200
    assert client.get("/by-sync-key").status_code == 200
    assert client.get("/by-sync-key").status_code == 429


def test_ip_limit_uses_trusted_proxy_header() -> None:
    """Behind a trusted proxy, X-Forwarded-For picks the client; from others it is ignored."""
    kit = make_kit(trusted_proxies="10.0.0.0/8")
    app = deps_app(kit)
    proxied = client_for(app, client=("10.0.0.5", 1234))
    assert proxied.get("/by-ip", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 200
    assert proxied.get("/by-ip", headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 200
    assert proxied.get("/by-ip", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    direct = client_for(app, client=("198.51.100.9", 1234))
    assert direct.get("/by-ip", headers={"X-Forwarded-For": "203.0.113.3"}).status_code == 200
    # The forged header did not give the direct client a fresh bucket.
    assert direct.get("/by-ip", headers={"X-Forwarded-For": "203.0.113.4"}).status_code == 429


def test_default_rate_limit_applies_to_every_route() -> None:
    """With api_prefixes=("/",) the default limit charges every request, misses included."""
    kit = make_kit(rate_limit_default="2/minute", api_prefixes=("/",))
    client = client_for(build_fastapi_app(kit, Probe()))
    assert client.get("/ok").headers["RateLimit-Limit"] == "2"
    assert client.get("/no-route").status_code == 404
    denied = client.get("/ok")
    assert denied.status_code == 429
    assert denied.json()["error"]["requestId"] == denied.headers["X-Request-ID"]


def prefixed_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.get("/api/items")
    async def items() -> dict[str, Any]:
        return success([])

    @app.get("/page")
    async def page() -> dict[str, Any]:
        return success()

    add_health_route(app)  # /health: outside the API prefixes
    add_health_route(app, "/api/health")  # under them, yet never charged either
    return app


def test_default_rate_limit_is_scoped_to_api_prefixes() -> None:
    """By default only paths under /api/ are charged; other paths are never throttled."""
    kit = make_kit(rate_limit_default="2/minute")
    client = client_for(prefixed_app(kit))
    assert kit.api_prefixes == ("/api/",)
    responses = [client.get("/page") for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert "RateLimit-Limit" not in responses[0].headers
    assert client.get("/api/items").headers["RateLimit-Limit"] == "2"
    assert client.get("/api/items").status_code == 200
    assert client.get("/api/items").status_code == 429


def test_health_routes_are_never_charged_the_default_limit() -> None:
    """add_health_route's path is exempt even under an API prefix: probes never get 429."""
    kit = make_kit(rate_limit_default="1/minute", api_prefixes=("/",))
    client = client_for(prefixed_app(kit))
    for path in ("/health", "/api/health"):
        probes = [client.get(path) for _ in range(3)]
        assert [r.status_code for r in probes] == [200] * 3, path
        assert "RateLimit-Limit" not in probes[0].headers
    # Valid twin: the other paths of the same app are still charged.
    assert client.get("/page").status_code == 200
    assert client.get("/page").status_code == 429


def test_default_rate_limit_needs_an_async_limiter() -> None:
    """A default limit without an async limiter is refused by install(), not answered 500."""
    kit = WebKit(settings=make_settings(rate_limit_default="2/minute"), api_prefixes=("/",))
    with pytest.raises(ConfigurationError, match="BACKENDKIT_RATE_LIMIT_DEFAULT"):
        build_fastapi_app(kit, Probe())
    # Valid twin: from_settings builds the async limiter the setting needs.
    built = WebKit.from_settings(make_settings(rate_limit_default="2/minute"), api_prefixes=["/"])
    client = client_for(build_fastapi_app(built, Probe()))
    assert [client.get("/ok").status_code for _ in range(3)] == [200, 200, 429]


def test_client_key_helper_and_dependency() -> None:
    """client_key(request) and ClientKey give the address behind trusted proxies."""
    kit = make_kit(trusted_proxies="10.0.0.0/8")
    app = FastAPI()
    install(app, kit)

    @app.get("/ip")
    async def ip(request: Request, key: ClientKey) -> dict[str, Any]:
        return success({"dependency": key, "call": client_key(request)})

    proxied = client_for(app, client=("10.0.0.5", 1234))
    forwarded = {"X-Forwarded-For": "203.0.113.1"}
    data = proxied.get("/ip", headers=forwarded).json()["data"]
    assert data == {"dependency": "203.0.113.1", "call": "203.0.113.1"}
    # An untrusted peer's header is ignored: its own address is the key.
    direct = client_for(app, client=("198.51.100.9", 1234))
    assert direct.get("/ip", headers=forwarded).json()["data"]["call"] == "198.51.100.9"


def test_route_limit_needs_an_async_limiter() -> None:
    """RateLimit without an async limiter in a hand-built kit fails loudly."""
    kit = WebKit(settings=make_settings())
    with capture_logs() as logs:
        assert client_for(deps_app(kit)).get("/by-ip").status_code == 500
    assert any(isinstance(e.get("exc_info"), ConfigurationError) for e in logs)


def test_bad_limit_string_fails_at_definition() -> None:
    """A typo in a limit string is caught when the route is defined."""
    with pytest.raises(ValueError, match="limit"):
        RateLimit("five per minute")


def test_ambiguous_key_string_fails_at_definition() -> None:
    """A literal bucket under key= is refused when the route is defined; bucket= takes it."""
    with pytest.raises(ConfigurationError, match="bucket"):
        RateLimit("5/minute", key="login:x")  # type: ignore[arg-type]
    app = FastAPI()
    install(app, make_kit())

    @app.get("/login", dependencies=[RateLimit("1/minute", bucket="login:x")])
    async def login() -> dict[str, Any]:
        return success()

    assert client_for(app, client=("203.0.113.1", 1)).get("/login").status_code == 200
    # One literal bucket: another address is counted in it too.
    assert client_for(app, client=("203.0.113.2", 1)).get("/login").status_code == 429


def test_charge_limit_refuses_a_literal_key() -> None:
    """charge_limit(key="login:...") is a ConfigurationError (a 500, logged); bucket= works."""
    app = FastAPI()
    install(app, make_kit())

    @app.get("/key")
    async def by_key(request: Request) -> dict[str, Any]:
        await charge_limit(request, "5/minute", key="login:x")  # type: ignore[arg-type]
        return success()

    @app.get("/bucket")
    async def by_bucket(request: Request) -> dict[str, Any]:
        await charge_limit(request, "5/minute", bucket="login:x")
        return success()

    client = client_for(app)
    with capture_logs() as logs:
        assert client.get("/key").status_code == 500
    assert any(isinstance(e.get("exc_info"), ConfigurationError) for e in logs)
    assert client.get("/bucket").headers["RateLimit-Remaining"] == "4"


def test_cost_charges_several_units(kit: WebKit) -> None:
    """cost=2 takes two units of the budget per request, in RateLimit and charge_limit."""
    app = FastAPI()
    install(app, kit)

    @app.get("/heavy", dependencies=[RateLimit("3/minute", cost=2)])
    async def heavy() -> dict[str, Any]:
        return success()

    @app.get("/inside")
    async def inside(request: Request) -> dict[str, Any]:
        await charge_limit(request, "4/minute", bucket="inside", cost=2)
        return success()

    client = client_for(app)
    first = client.get("/heavy")
    assert (first.status_code, first.headers["RateLimit-Remaining"]) == (200, "1")
    assert client.get("/heavy").status_code == 429
    assert [client.get("/inside").status_code for _ in range(3)] == [200, 200, 429]


def test_scopes_required(kit: WebKit) -> None:
    """require_scopes needs every scope: one missing is 403, all present pass."""
    client = client_for(deps_app(kit))
    assert client.get("/scoped", headers=bearer(kit, scope="read")).status_code == 403
    assert client.get("/scoped", headers=bearer(kit, scope="read write")).status_code == 200


def test_optional_user(kit: WebKit) -> None:
    """OptionalUser is None without credentials and the principal with them."""
    client = client_for(deps_app(kit))
    assert client.get("/maybe").json()["data"] == {"user": None}
    assert client.get("/maybe", headers=bearer(kit, "z")).json()["data"] == {"user": "z"}


def test_no_store_dependency(kit: WebKit) -> None:
    """Depends(no_store) marks an anonymous auth route no-store."""
    response = client_for(deps_app(kit)).post("/login")
    assert response.headers["Cache-Control"] == "no-store"


def test_cookie_transport_with_csrf() -> None:
    """With cookie transport, the cookie authenticates; unsafe methods need the CSRF echo."""
    kit = make_kit(cookie_auth=CookieAuth(secure=False))
    assert kit.tokens is not None
    token = kit.tokens.issue_access("cookie-user")
    client = client_for(deps_app(kit), cookies={"access_token": token, "csrf_token": "c" * 20})
    refused = client.post("/cookie")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "CSRF token missing or invalid"
    assert client.post("/cookie", headers={"X-CSRF-Token": "d" * 20}).status_code == 403
    ok = client.post("/cookie", headers={"X-CSRF-Token": "c" * 20})
    assert ok.status_code == 200
    assert ok.json()["data"] == {"user": "cookie-user"}


def test_cursor_params(kit: WebKit) -> None:
    """CursorPagination reads cursor and perPage, and refuses a bad perPage."""
    client = client_for(deps_app(kit))
    assert client.get("/cursor?cursor=abc&perPage=5").json()["data"] == {
        "cursor": "abc",
        "perPage": 5,
    }
    assert client.get("/cursor?perPage=0").status_code == 400


def test_etag_and_304(kit: WebKit) -> None:
    """conditional_json sets a strong ETag; a matching If-None-Match gets an empty 304."""
    client = client_for(deps_app(kit))
    first = client.get("/etag")
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=60"
    second = client.get("/etag", headers={"If-None-Match": tag})
    assert second.status_code == 304
    assert second.content == b""
    assert "content-type" not in second.headers
    assert second.headers["ETag"] == tag
    assert second.headers["X-Request-ID"]
    assert client.get("/etag", headers={"If-None-Match": '"other"'}).status_code == 200


def test_current_cycle_matches_header(kit: WebKit) -> None:
    """current_cycle gives the same request id the response carries."""
    response = client_for(deps_app(kit)).get("/cycle")
    assert response.json()["data"]["id"] == response.headers["X-Request-ID"]


def test_current_cycle_binds_the_log_context(kit: WebKit) -> None:
    """The cycle route code sees is the middleware's: its id is the log context's."""
    from backendkit.logging import current_request_id

    app = FastAPI()
    install(app, kit)

    @app.get("/c")
    async def c(request: Request) -> dict[str, Any]:
        return {"cycle": current_cycle(request).request_id, "log": current_request_id()}

    data = client_for(app).get("/c", headers={"X-Request-ID": "x1"}).json()
    assert data == {"cycle": "x1", "log": "x1"}


def test_current_cycle_without_middleware_is_refused() -> None:
    """A request that did not pass the middleware has no cycle: a ConfigurationError."""
    app = FastAPI()

    @app.get("/c")
    async def c(request: Request) -> dict[str, Any]:
        return {"id": current_cycle(request).request_id}

    with pytest.raises(ConfigurationError, match="install"):
        TestClient(app).get("/c")


def test_health_route_needs_install() -> None:
    """add_health_route on an app without install() is refused when it is mounted."""
    with pytest.raises(ConfigurationError, match="install"):
        add_health_route(FastAPI())


# --------------------------------------------------------------------------- health


def test_health_route(kit: WebKit) -> None:
    """The health route is 200 when every probe answers and 503 naming the failed one."""
    app = FastAPI()
    install(app, kit)
    state = {"up": True}

    async def redis_probe() -> bool:
        return state["up"]

    add_health_route(app, database=lambda: True, redis=redis_probe)
    client = client_for(app)
    ok = client.get("/health")
    assert ok.status_code == 200
    assert ok.json()["data"] == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}
    state["up"] = False
    down = client.get("/health")
    assert down.status_code == 503
    assert down.json()["error"]["details"] == [{"field": "redis", "message": "unavailable"}]
    assert down.headers["Retry-After"] == "5"  # the retry_after setting's default
    assert "Retry-After" not in ok.headers


def test_health_probe_timeout(kit: WebKit) -> None:
    """A probe that does not answer in time counts as down (timeout), without hanging."""
    app = FastAPI()
    install(app, kit)

    async def hung() -> bool:
        await asyncio.Event().wait()
        return True

    add_health_route(app, redis=hung, timeout=0.05)
    response = client_for(app).get("/health")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == [{"field": "redis", "message": "timeout"}]


# --------------------------------------------------------------------------- OpenAPI


def openapi_app(kit: WebKit) -> FastAPI:
    app = build_fastapi_app(kit, Probe())

    @app.get("/users", response_model=PageEnvelope[Item])
    async def users(user: CurrentUser) -> dict[str, Any]:
        return {}

    @app.get("/one", response_model=Envelope[Item])
    async def one() -> dict[str, Any]:
        return {}

    return app


def test_openapi_documents_envelopes_not_422(kit: WebKit) -> None:
    """The document has envelope schemas, the error envelope per status, and no 422."""
    document = client_for(openapi_app(kit)).get("/openapi.json").json()
    text = json.dumps(document)
    assert '"422"' not in text
    assert "HTTPValidationError" not in text
    assert "ValidationError" not in document["components"]["schemas"]
    schemas = document["components"]["schemas"]
    assert {"ErrorEnvelope", "ItemEnvelope", "ItemPageEnvelope", "EchoInEnvelope"} <= set(schemas)
    for path, item in document["paths"].items():
        for operation in item.values():
            assert "500" in operation["responses"], path
    # Per route, only what its dependencies raise (tests/adapters/test_fastapi_openapi_errors.py).
    assert "401" in document["paths"]["/users"]["get"]["responses"]
    assert "401" not in document["paths"]["/one"]["get"]["responses"]
    echo = document["paths"]["/echo"]["post"]
    assert echo["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EchoIn"
    }
    assert "415" in echo["responses"]
    assert "415" not in document["paths"]["/ok"]["get"]["responses"]
    assert document["paths"]["/me"]["get"]["security"] == [{"HTTPBearer": []}]
    limited = document["components"]["responses"]["RateLimited"]
    assert "Retry-After" in limited["headers"]


def test_openapi_is_stable_across_calls(kit: WebKit) -> None:
    """Post-processing runs once per generated document (no duplicated entries)."""
    app = openapi_app(kit)
    assert app.openapi() == app.openapi()


def test_openapi_validates_as_3_1(kit: WebKit) -> None:
    """The generated document validates against the official OpenAPI 3.1 schema."""
    from openapi_spec_validator import validate

    document = openapi_app(kit).openapi()
    assert document["openapi"].startswith("3.1")
    validate(document)


def router_app(kit: WebKit) -> FastAPI:
    """JsonBody routes that live in (nested) routers included with prefixes."""
    app = FastAPI()
    install(app, kit)
    inner = APIRouter(prefix="/auth")

    @inner.post("/login")
    async def login(body: Annotated[EchoIn, JsonBody(EchoIn)]) -> dict[str, Any]:
        return success(body)

    @inner.get("/plain")
    async def plain() -> dict[str, Any]:
        return success()

    outer = APIRouter()
    outer.include_router(inner, prefix="/v1")
    app.include_router(outer, prefix="/api")
    return app


def test_openapi_documents_bodies_of_routes_in_included_routers(kit: WebKit) -> None:
    """JsonBody routes inside routers (FastAPI >= 0.165 includes them lazily) get their
    requestBody and 415, under the prefixed path; the document still validates as 3.1."""
    from openapi_spec_validator import validate

    app = router_app(kit)
    document = app.openapi()
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/EchoIn"
    }
    assert "EchoIn" in document["components"]["schemas"]
    assert "415" in login["responses"]
    # Valid twin: a router route without a body documents none.
    plain = document["paths"]["/api/v1/auth/plain"]["get"]
    assert "requestBody" not in plain
    assert "415" not in plain["responses"]
    validate(document)
    # The route itself still reads its body through the core.
    response = client_for(app).post("/api/v1/auth/login", json={"name": "a"})
    assert response.status_code == 200, response.text


def test_missing_fastapi_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing the adapter without FastAPI raises the ImportError that names the extra."""
    import importlib
    import sys

    from backendkit.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "backendkit.adapters.fastapi")
    with pytest.raises(MissingDependencyError, match=r"backendkit\[fastapi\]"):
        importlib.import_module("backendkit.adapters.fastapi")


def test_install_after_start_is_refused(kit: WebKit) -> None:
    """install() on an app that already serves would miss its middleware: refused."""
    app = FastAPI()
    client_for(app).get("/")
    with pytest.raises(ConfigurationError, match="before"):
        install(app, kit)


def test_openapi_documents_problem_details_when_configured() -> None:
    """With error_format=problem the error responses are problem+json ProblemDetails."""
    kit = make_kit(error_format="problem")
    app = openapi_app(kit)
    document = app.openapi()
    content = document["components"]["responses"]["NotFound"]["content"]
    assert content == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    response = client_for(app).get("/nope")
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_sync_routes_in_worker_threads_see_the_request_id(kit: WebKit) -> None:
    """A sync route runs in a worker thread; it still sees its own request id."""
    from backendkit.logging import current_request_id

    app = FastAPI()
    install(app, kit)

    @app.get("/sync")
    def sync_route() -> dict[str, Any]:
        return success({"id": current_request_id()})

    response = client_for(app).get("/sync", headers={"X-Request-ID": "thread-1"})
    assert response.json()["data"] == {"id": "thread-1"}


# --------------------------------------------------------------------------- docs snippet


def test_fastapi_roles_sample() -> None:
    """Roles, scopes and the (address, email) login limit of the FastAPI roles sample."""
    from docs.snippets import fastapi_roles

    from backendkit.auth import JWTKey, TokenService
    from backendkit.ratelimit import AsyncRateLimiter

    tokens = TokenService(JWTKey.hmac("k" * 32), store="memory://")
    kit = WebKit.from_settings(
        make_settings(), tokens=tokens, async_limiter=AsyncRateLimiter("memory://")
    )
    client = TestClient(fastapi_roles.create_app(kit), raise_server_exceptions=False)
    admin = {"Authorization": "Bearer " + tokens.issue_access("a", claims={"roles": ["admin"]})}
    user = {"Authorization": "Bearer " + tokens.issue_access("u", claims={"roles": ["user"]})}
    assert client.get("/api/admin/stats", headers=admin).status_code == 200
    assert client.get("/api/admin/stats", headers=user).status_code == 403
    reader = {
        "Authorization": "Bearer " + tokens.issue_access("r", claims={"scope": "reports:read"})
    }
    assert client.get("/api/reports", headers=reader).status_code == 200
    assert client.get("/api/reports", headers=user).status_code == 403
    login = {"email": "Ann@example.com", "password": "x"}
    answers = [client.post("/api/login", json=login) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 429]
    # The per-account budget (5) is the one shown, not the per-address one (20).
    assert [a.headers["RateLimit-Limit"] for a in answers] == ["5"] * 6
    assert answers[3].headers["RateLimit-Remaining"] == "1"
    # Another account from the same address still has its own budget.
    assert (
        client.post("/api/login", json={"email": "bob@example.com", "password": "x"}).status_code
        == 200
    )


def charging_fastapi_app(kit: WebKit) -> FastAPI:
    app = FastAPI()
    install(app, kit)

    @app.post("/api/login")
    async def login(request: Request, body: Annotated[dict[str, str], Body()]) -> Any:
        account = body.get("name", "")
        await charge_limit(request, "1/minute", bucket=f"login:{account}", name="login-account")
        return success({"account": account})

    return app


def test_charge_limit_inside_a_route() -> None:
    """charge_limit charges a computed key with the async limiter: 429 once spent, per key."""
    client = client_for(charging_fastapi_app(make_kit()))
    first = client.post("/api/login", json={"name": "ann"})
    assert first.status_code == 200
    assert (first.headers["RateLimit-Limit"], first.headers["RateLimit-Remaining"]) == ("1", "0")
    denied = client.post("/api/login", json={"name": "ann"})
    assert denied.status_code == 429
    assert denied.json()["error"]["code"] == "RATE_LIMITED"
    assert denied.headers["Retry-After"]
    # Valid twin: another key has its own budget.
    assert client.post("/api/login", json={"name": "bob"}).status_code == 200


def test_charge_limit_needs_an_async_limiter() -> None:
    """Without an async limiter in the kit charge_limit is a ConfigurationError (500, logged)."""
    kit = WebKit(settings=make_settings())  # by hand: from_settings would build one
    with capture_logs() as logs:
        response = client_for(charging_fastapi_app(kit)).post("/api/login", json={"name": "a"})
    assert response.status_code == 500
    assert any(isinstance(e.get("exc_info"), ConfigurationError) for e in logs)
