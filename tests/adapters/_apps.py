"""One small app per framework, all exposing the same routes, behind one test harness.

`tests/adapters/test_common_errors.py` runs every shared error-path and header case
against each entry of `APP_FACTORIES`. To add a framework, write a factory returning a
`Harness` whose app serves these routes (and nothing else is needed):

| route | behaviour |
| --- | --- |
| `GET /ok` | 200 `success({"ok": True})` |
| `GET /app-error` | raises `Conflict("Widget already exists")` |
| `GET /boom` | raises `RuntimeError("secret internals at /srv/app.py")` |
| `POST /echo` | body read through the core into `EchoIn`, returns `success(body)` |
| `GET /me` | requires authentication, returns `success({"id": user_id})` |
| `GET /admin` | requires role `admin` |
| `GET /limited` | per-route limit `"2/minute"` keyed by client address |
| `GET /limited-twice` | limit `"3/minute"` by address, then rule `second` `"2/hour"` on `"pair"` |
| `GET /guarded` | per-route limit `"5/minute"` by address with `failure_policy="fail_closed"` |
| `GET /limited-loose` | limit `"2/minute"` by address, then rule `loose` `"50/hour"` on `"pair"` |
| `GET /items` | page params from the query, returns `success({"page":..,"perPage":..})` |
| `GET /ctx` | waits on `probe.barrier` if set, returns `success({"requestId": <context id>})` |

Each harness uses `max_body_bytes=1024` and a fresh in-memory limiter.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route annotations of
# apps built inside functions.
import json as jsonlib
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Request
from flask import Flask, request

from backendkit.auth import JWTKey, TokenService
from backendkit.errors import Conflict
from backendkit.logging import current_request_id
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.validation import ApiModel
from backendkit.web import CookieAuth, WebKit

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient wants httpx2; httpx is what we have.
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

from backendkit.adapters import flask as flask_adapter
from backendkit.adapters.fastapi import (
    CurrentUser,
    JsonBody,
    Pagination,
    RateLimit,
    install,
    require_roles,
)
from backendkit.adapters.fastapi import (
    charge_limit as fastapi_charge_limit,
)
from backendkit.adapters.flask import BackendKit
from backendkit.pagination import PageParams
from backendkit.responses import Envelope, success

MAX_BODY = 1024
SECRET = "secret internals at /srv/app.py"


class EchoIn(ApiModel):
    """The body `POST /echo` validates."""

    name: str
    count: int = 1


@dataclass
class Result:
    """A framework-neutral view of a test client's response."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.body)

    def header(self, name: str) -> str | None:
        """A response header, any case."""
        return self.headers.get(name.lower())


@dataclass
class Probe:
    """Shared state the `/ctx` route reads (a barrier set by concurrency tests)."""

    barrier: threading.Barrier | None = None


@dataclass
class Harness:
    """A running test app: send requests, mint tokens, trigger native validation."""

    name: str
    send: Callable[[str, str, dict[str, str], bytes | None], Result]
    tokens: TokenService
    probe: Probe
    #: (method, path, headers, body) that makes the framework's own validation fail.
    native_validation: tuple[str, str, dict[str, str], bytes | None]
    #: The code that native validation error must come out as.
    native_validation_code: str = "VALIDATION_ERROR"
    extra: dict[str, Any] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        json: Any = None,
    ) -> Result:
        all_headers = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return self.send(method, path, all_headers, body)

    def token(self, sub: str = "user-1", roles: tuple[str, ...] = ()) -> str:
        return self.tokens.issue_access(sub, claims={"roles": list(roles)})


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"env": "test", "max_body_bytes": MAX_BODY}
    values.update(overrides)
    return Settings(**values)


def make_kit(
    *,
    cookie_auth: CookieAuth | None = None,
    api_prefixes: tuple[str, ...] = ("/api/",),
    limiter_storage: str = "memory://",
    **overrides: Any,
) -> WebKit:
    tokens = TokenService(JWTKey.hmac("k" * 32), store="memory://")
    return WebKit.from_settings(
        make_settings(**overrides),
        tokens=tokens,
        limiter=RateLimiter(limiter_storage),
        async_limiter=AsyncRateLimiter(limiter_storage),
        cookie_auth=cookie_auth,
        api_prefixes=api_prefixes,
    )


# --------------------------------------------------------------------------- FastAPI


def build_fastapi_app(kit: WebKit, probe: Probe) -> Any:
    app = FastAPI()
    install(app, kit)

    @app.get("/ok")
    async def ok() -> dict[str, Any]:
        return success({"ok": True})

    @app.get("/app-error")
    async def app_error() -> None:
        raise Conflict("Widget already exists")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET)

    @app.post("/echo", response_model=Envelope[EchoIn])
    async def echo(body: Annotated[EchoIn, JsonBody(EchoIn)]) -> dict[str, Any]:
        return success(body)

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return success({"id": user.user_id})

    @app.get("/admin", dependencies=[require_roles("admin")])
    async def admin() -> dict[str, Any]:
        return success({"admin": True})

    @app.get("/limited", dependencies=[RateLimit("2/minute")])
    async def limited() -> dict[str, Any]:
        return success({"limited": True})

    @app.get("/guarded", dependencies=[RateLimit("5/minute", failure_policy="fail_closed")])
    async def guarded() -> dict[str, Any]:
        return success({"limited": True})

    @app.get("/limited-twice", dependencies=[RateLimit("3/minute")])
    async def limited_twice(request: Request) -> dict[str, Any]:
        await fastapi_charge_limit(request, "2/hour", key="pair", name="second")
        return success({"limited": True})

    @app.get("/limited-loose", dependencies=[RateLimit("2/minute")])
    async def limited_loose(request: Request) -> dict[str, Any]:
        await fastapi_charge_limit(request, "50/hour", key="pair", name="loose")
        return success({"limited": True})

    @app.get("/items")
    async def items(params: Pagination) -> dict[str, Any]:
        return success({"page": params.page, "perPage": params.per_page})

    @app.get("/ctx")
    async def ctx() -> dict[str, Any]:
        if probe.barrier is not None:
            await anyio.to_thread.run_sync(probe.barrier.wait, 10)
        return success({"requestId": current_request_id()})

    @app.get("/typed/{number}")
    async def typed(number: int) -> dict[str, Any]:
        return success({"number": number})

    return app


def fastapi_harness(kit: WebKit | None = None) -> Harness:
    kit = kit or make_kit()
    probe = Probe()
    app = build_fastapi_app(kit, probe)
    client = TestClient(app, raise_server_exceptions=False)

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> Result:
        response = client.request(method, path, headers=headers, content=body)
        return Result(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.content,
        )

    assert kit.tokens is not None
    return Harness(
        name="fastapi",
        send=send,
        tokens=kit.tokens,
        probe=probe,
        native_validation=("GET", "/typed/not-a-number", {}, None),
        extra={"app": app, "client": client, "kit": kit},
    )


# --------------------------------------------------------------------------- Flask


def build_flask_app(kit: WebKit, probe: Probe) -> Flask:
    app = Flask("flask_test_app")
    BackendKit(app, kit=kit)

    @app.get("/ok")
    def ok() -> Any:
        return success({"ok": True})

    @app.get("/app-error")
    def app_error() -> Any:
        raise Conflict("Widget already exists")

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError(SECRET)

    @app.post("/echo")
    @flask_adapter.json_body(EchoIn)
    def echo(body: EchoIn) -> Any:
        return success(body)

    @app.get("/me")
    @flask_adapter.require_auth
    def me() -> Any:
        user = flask_adapter.current_user()
        assert user is not None
        return success({"id": user.user_id})

    @app.get("/admin")
    @flask_adapter.require_roles("admin")
    def admin() -> Any:
        return success({"admin": True})

    @app.get("/limited")
    @flask_adapter.rate_limit("2/minute")
    def limited() -> Any:
        return success({"limited": True})

    @app.get("/guarded")
    @flask_adapter.rate_limit("5/minute", failure_policy="fail_closed")
    def guarded() -> Any:
        return success({"limited": True})

    @app.get("/limited-twice")
    @flask_adapter.rate_limit("3/minute")
    def limited_twice() -> Any:
        flask_adapter.charge_limit("2/hour", key="pair", name="second")
        return success({"limited": True})

    @app.get("/limited-loose")
    @flask_adapter.rate_limit("2/minute")
    def limited_loose() -> Any:
        flask_adapter.charge_limit("50/hour", key="pair", name="loose")
        return success({"limited": True})

    @app.get("/items")
    @flask_adapter.paginate
    def items(params: PageParams) -> Any:
        return success({"page": params.page, "perPage": params.per_page})

    @app.get("/ctx")
    def ctx() -> Any:
        if probe.barrier is not None:
            probe.barrier.wait(10)
        return success({"requestId": current_request_id()})

    @app.get("/native-validation")
    def native_validation() -> Any:
        # Flask's own input error: a missing form/query key is werkzeug's BadRequestKeyError.
        return success({"q": request.args["q"]})

    return app


def flask_harness(kit: WebKit | None = None) -> Harness:
    kit = kit or make_kit()
    probe = Probe()
    app = build_flask_app(kit, probe)
    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> Result:
        response = client.open(path, method=method, headers=headers, data=body)
        return Result(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            response.get_data(),
        )

    assert kit.tokens is not None
    return Harness(
        name="flask",
        send=send,
        tokens=kit.tokens,
        probe=probe,
        native_validation=("GET", "/native-validation", {}, None),
        native_validation_code="BAD_REQUEST",
        extra={"app": app, "client": client, "kit": kit},
    )


# --------------------------------------------------------------------------- Django / DRF


def _django() -> Any:
    # Imported on first use: it configures Django (once per process).
    from tests.adapters import _django_app

    return _django_app


# --------------------------------------------------------------------------- registry

#: Every framework the shared suite runs against. Django/DRF add theirs here.
APP_FACTORIES: dict[str, Callable[[], Harness]] = {
    "fastapi": fastapi_harness,
    "flask": flask_harness,
    "django": lambda: _django().django_harness(),
    "drf": lambda: _django().drf_harness(),
}
