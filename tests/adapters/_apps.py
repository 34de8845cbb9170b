"""The shared app of `_spec.py`, generated for each framework, behind one test harness.

`tests/adapters/test_common_errors.py` runs its table of scenarios against each entry of
`APP_FACTORIES`. The FastAPI and Flask apps are generated here from `SPEC`, the Django and
DRF ones in `_django_app.py`. To add a framework, write a generator that serves every
route of `SPEC` and a factory returning a `Harness` around its test client.

Each harness uses `max_body_bytes=1024` and a fresh in-memory limiter.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route annotations of
# apps built inside functions.
import inspect
import json as jsonlib
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import StreamingResponse
from flask import Flask, request, stream_with_context

from backendkit.auth import JWTKey, TokenService
from backendkit.ratelimit import AsyncRateLimiter, RateLimiter
from backendkit.settings import Settings
from backendkit.validation import validate_query
from backendkit.web import CookieAuth, WebKit

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient wants httpx2; httpx is what we have.
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

from tests.adapters._spec import (
    ETAG_CACHE_CONTROL,
    MAX_BODY,
    SECRET,
    SPEC,
    EchoIn,
    Route,
    answer,
    health_checks,
    stream_chunks,
)

from backendkit.adapters import fastapi as fastapi_adapter
from backendkit.adapters import flask as flask_adapter
from backendkit.adapters.fastapi import CurrentUser, JsonBody, Pagination, RateLimit, install
from backendkit.adapters.flask import BackendKit
from backendkit.responses import Envelope, success

__all__ = ["MAX_BODY", "SECRET", "EchoIn"]  # re-exported for the other adapter tests


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
    #: What the health route's probe answers.
    healthy: bool = True


@dataclass
class Harness:
    """A running test app: send requests, mint tokens; ``close`` when done."""

    name: str
    send: Callable[[str, str, dict[str, str], bytes | None], Result]
    tokens: TokenService
    probe: Probe
    extra: dict[str, Any] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None

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


def _fastapi_parameters(route: Route) -> list[inspect.Parameter]:
    """The endpoint's parameters, in FastAPI's idiom (dependencies and typed parameters)."""

    def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> Any:
        return inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
        )

    found = [param("request", Request)]
    if route.auth:
        found.append(param("user", CurrentUser))
    if route.body is not None:
        found.append(param("body", Annotated[route.body, JsonBody(route.body)]))
    for name, kind in route.params.items():
        found.append(param(name, Annotated[kind, Path()]))
    if route.query is not None:
        for name, info in route.query.model_fields.items():
            # rebuild_annotation keeps the field's constraints (ge=1) for pydantic.
            kind = Annotated[info.rebuild_annotation(), Query(alias=info.alias)]
            found.append(param(name, kind, info.default))
    if route.pages:
        found.append(param("page", Pagination))
    if route.does == "native":
        found.append(param("number", int))  # FastAPI's own validation of a typed query
    return found


def _fastapi_endpoint(route: Route, probe: Probe) -> Callable[..., Any]:
    async def endpoint(**kwargs: Any) -> Any:
        req: Request = kwargs["request"]
        for limit in route.limits[1:]:
            await fastapi_adapter.charge_limit(req, limit.limits, bucket=limit.key, name=limit.name)
        if route.does == "ctx" and probe.barrier is not None:
            await anyio.to_thread.run_sync(probe.barrier.wait, 10)
        if route.does == "stream":

            async def chunks() -> Any:
                for chunk in stream_chunks():
                    yield chunk

            return StreamingResponse(chunks(), media_type="application/json")
        query = kwargs.get("query")
        if route.query is not None:
            query = route.query.model_validate({n: kwargs[n] for n in route.query.model_fields})
        data = answer(
            route,
            user_id=kwargs["user"].user_id if route.auth else None,
            body=kwargs.get("body"),
            params={name: kwargs[name] for name in route.params},
            query=query,
            page=kwargs.get("page"),
        )
        if route.does == "etag":
            return fastapi_adapter.conditional_json(
                req, success(data), cache_control=ETAG_CACHE_CONTROL
            )
        return success(data)

    endpoint.__signature__ = inspect.Signature(_fastapi_parameters(route))  # type: ignore[attr-defined]
    endpoint.__name__ = route.name
    return endpoint


def build_fastapi_app(kit: WebKit, probe: Probe) -> Any:
    """The FastAPI app of `SPEC`."""
    app = FastAPI()
    install(app, kit)
    for route in SPEC:
        if route.does == "health":
            fastapi_adapter.add_health_route(app, route.path, checks=health_checks(probe))
            continue
        dependencies = []
        if route.roles:
            dependencies.append(fastapi_adapter.require_roles(*route.roles))
        if route.limits:
            first = route.limits[0]
            dependencies.append(RateLimit(first.limits, failure_policy=first.failure_policy))
        app.add_api_route(
            route.path,
            _fastapi_endpoint(route, probe),
            methods=[route.method],
            dependencies=dependencies,
            # The echo's envelope, documented with its real shape.
            response_model=Envelope[route.body] if route.body is not None else None,
        )
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
        extra={"app": app, "client": client, "kit": kit},
    )


# --------------------------------------------------------------------------- Flask


def _flask_view(route: Route, probe: Probe) -> Callable[..., Any]:
    def view(**kwargs: Any) -> Any:
        for limit in route.limits[1:]:
            flask_adapter.charge_limit(limit.limits, bucket=limit.key, name=limit.name)
        if route.does == "ctx" and probe.barrier is not None:
            probe.barrier.wait(10)
        if route.does == "stream":
            # stream_with_context: the request (and its log context) lives while it streams.
            body: Iterator[bytes] = stream_with_context(stream_chunks())
            return flask_adapter.Response(body, content_type="application/json")
        if route.does == "native":
            # Flask's own input error: a missing query key is werkzeug's BadRequestKeyError.
            return success({"number": request.args["q"]})
        user = flask_adapter.current_user() if route.auth else None
        data = answer(
            route,
            user_id=user.user_id if user is not None else None,
            body=kwargs.get("body"),
            params={name: kwargs[name] for name in route.params},
            query=validate_query(route.query, request.args) if route.query else None,
            page=kwargs.get("params"),
        )
        if route.does == "etag":
            return flask_adapter.conditional_json(success(data), cache_control=ETAG_CACHE_CONTROL)
        return success(data)

    view.__name__ = route.name
    # Decorators, innermost first: what the view reads, then limits, then authentication.
    decorated: Callable[..., Any] = view
    if route.pages:
        decorated = flask_adapter.paginate(decorated)
    if route.params:
        decorated = flask_adapter.path_params(**route.params)(decorated)
    if route.body is not None:
        decorated = flask_adapter.json_body(route.body)(decorated)
    if route.limits:
        first = route.limits[0]
        decorated = flask_adapter.rate_limit(first.limits, failure_policy=first.failure_policy)(
            decorated
        )
    if route.roles:
        decorated = flask_adapter.require_roles(*route.roles)(decorated)
    elif route.auth:
        decorated = flask_adapter.require_auth(decorated)
    return decorated


def build_flask_app(kit: WebKit, probe: Probe) -> Flask:
    """The Flask app of `SPEC`."""
    app = Flask("flask_test_app")
    BackendKit(app, kit=kit)
    for route in SPEC:
        if route.does == "health":
            flask_adapter.add_health_route(app, route.path, checks=health_checks(probe))
            continue
        app.add_url_rule(
            route.flask_path(),
            endpoint=route.name,
            view_func=_flask_view(route, probe),
            methods=[route.method],
        )
    return app


def flask_harness(kit: WebKit | None = None) -> Harness:
    kit = kit or make_kit()
    probe = Probe()
    app = build_flask_app(kit, probe)
    # No cookie jar: werkzeug's would replace a Cookie header the scenario sends.
    client = app.test_client(use_cookies=False)

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

#: The kits scenarios run under: ``plain``; ``cookie`` (access tokens also read from a
#: cookie, with the CSRF double-submit check on unsafe methods); ``default`` (an app-wide
#: default limit of 2/minute, charged only under ``/api/``).
PROFILES = ("plain", "cookie", "default")


def profile_kit(profile: str) -> WebKit:
    """A fresh kit (fresh in-memory limiters) for one profile."""
    if profile == "cookie":
        return make_kit(cookie_auth=CookieAuth())
    if profile == "default":
        return make_kit(rate_limit_default="2/minute", api_prefixes=("/api/",))
    assert profile == "plain", profile
    return make_kit()


def conformance_harness(framework: str, profile: str) -> Harness:
    """The harness of ``framework`` on a fresh kit of ``profile``.

    Django reads its API prefixes from ``settings.BACKENDKIT`` (the test project serves
    everything as an API); under the ``default`` profile the harness narrows them to the
    kit's ``/api/``, the prefix Flask and FastAPI read from the kit.
    """
    kit = profile_kit(profile)
    if framework in ("django", "drf"):
        prefixes = kit.api_prefixes if profile == "default" else None
        build = getattr(_django(), f"{framework}_harness")
        return build(kit, api_prefixes=prefixes)  # type: ignore[no-any-return]
    return {"fastapi": fastapi_harness, "flask": flask_harness}[framework](kit)
