"""The Django and DRF apps of the shared error-path suite, plus the views test_django/test_drf use.

Django is configured once per process (``tests.djangoproject.settings``, whose
``BACKENDKIT["KIT"]`` is ``tests.adapters._django_app.current_kit``); each harness swaps in
its own kit there and routes requests to its own URLconf by setting ``request.urlconf`` (a
per-request Django feature), so harnesses never change global settings while requests are
in flight.
"""

from __future__ import annotations

import json as jsonlib
import os
from typing import Any

import django
from django.apps import apps

# The shared test project (tests/djangoproject); Django is configured once per process.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.djangoproject.settings")
if not apps.ready:
    django.setup()

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.test import Client, override_settings
from django.test.client import ClientHandler
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.http import require_http_methods
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from tests.adapters._apps import Harness, Probe, Result, make_kit
from tests.adapters._spec import (
    ETAG_CACHE_MAX_AGE,
    SPEC,
    Route,
    answer,
    health_checks,
    stream_chunks,
)
from tests.adapters._spec import EchoIn as EchoIn  # re-exported for _django_test_urls

from backendkit.adapters.django import (
    AuthRequiredMixin,
    RateLimitMixin,
    charge_limit,
    get_principal,
    health_view,
    http_cache,
    json_body,
    path_params,
    rate_limit,
    require_auth,
    require_roles,
    reset_config,
    success_response,
)
from backendkit.adapters.drf import has_roles, throttle_for
from backendkit.listing import page_params
from backendkit.logging import current_request_id
from backendkit.validation import validate, validate_query
from backendkit.web import RouteLimit, WebKit

# --------------------------------------------------------------------------- the kit

_KIT: dict[str, WebKit] = {}


def current_kit() -> WebKit:
    """The kit of the harness (or test) in use; ``settings.BACKENDKIT["KIT"]`` points here."""
    if "kit" not in _KIT:
        _KIT["kit"] = make_kit()
    return _KIT["kit"]


def use_kit(kit: WebKit) -> WebKit:
    """Make ``kit`` the one the adapter sees from the next request on."""
    _KIT["kit"] = kit
    reset_config()
    return kit


PROBE = Probe()

# --------------------------------------------------------------------------- Django views


def _django_view(route: Route) -> Any:
    """A plain Django function view serving ``route``, with backendkit's decorators."""

    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        for limit in route.limits[1:]:
            charge_limit(request, limit.limits, bucket=limit.key, name=limit.name)
        if route.does == "ctx" and PROBE.barrier is not None:
            PROBE.barrier.wait(10)
        if route.does == "stream":
            return StreamingHttpResponse(stream_chunks(), content_type="application/json")
        if route.does == "native":
            # Django's own validation: a form field's clean() raises django ValidationError.
            number = forms.IntegerField().clean(request.GET.get("number"))
            return success_response({"number": number})
        data = answer(
            route,
            user_id=get_principal(request).user_id if route.auth else None,
            body=kwargs.get("body"),
            params={name: kwargs[name] for name in route.params},
            query=validate_query(route.query, request.GET) if route.query else None,
            page=page_params(request.GET) if route.pages else None,
        )
        return success_response(data)

    view.__name__ = route.name
    # Decorators, innermost first: what the view reads, then limits, then authentication.
    decorated: Any = view
    if route.does == "etag":
        decorated = http_cache(max_age=ETAG_CACHE_MAX_AGE)(decorated)
    if route.params:
        decorated = path_params(**route.params)(decorated)
    if route.body is not None:
        decorated = json_body(route.body)(decorated)
    if route.limits:
        first = route.limits[0]
        decorated = rate_limit(first.limits, failure_policy=first.failure_policy)(decorated)
    if route.roles:
        decorated = require_roles(*route.roles)(decorated)
    elif route.auth:
        decorated = require_auth(decorated)
    # Other methods: Django's HttpResponseNotAllowed, which the middleware envelopes.
    return require_http_methods([route.method])(decorated)


def _patterns(build: Any) -> list[Any]:
    found = []
    for route in SPEC:
        if route.does == "health":
            view = health_view(database=None, checks=health_checks(PROBE))
        else:
            view = build(route)
        found.append(path(route.django_path(), view, name=route.name))
    return found


django_harness_patterns = _patterns(_django_view)
_DJANGO_VIEWS = {p.name: p.callback for p in django_harness_patterns}
# Views other URLconfs of the Django tests reuse.
ok = _DJANGO_VIEWS["get_ok"]
boom = _DJANGO_VIEWS["get_boom"]

# --------------------------------------------------------------------------- DRF views


class EchoSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    count = serializers.IntegerField(default=1)


class DrfSerializerEcho(APIView):
    def post(self, request: Any) -> Response:
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


def _drf_handler(route: Route) -> Any:
    """The APIView method serving ``route``: data as a DRF ``Response``."""

    def handler(self: APIView, request: Any, **kwargs: Any) -> Any:
        if route.does == "ctx" and PROBE.barrier is not None:
            PROBE.barrier.wait(10)
        if route.does == "stream":
            return StreamingHttpResponse(stream_chunks(), content_type="application/json")
        if route.does == "native":
            # DRF's own validation: a serializer field's run_validation.
            try:
                number = serializers.IntegerField().run_validation(request.query_params["number"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"number": exc.detail}) from exc
            return Response({"number": number})
        data = answer(
            route,
            user_id=request.user.user_id if route.auth else None,
            # The harness contract: the body goes through the core into the route's model.
            body=validate(route.body, request.data) if route.body else None,
            params={name: kwargs[name] for name in route.params},
            query=validate_query(route.query, request.query_params) if route.query else None,
            page=page_params(request.query_params) if route.pages else None,
        )
        if route.does == "etag":
            # DRF renders its Response after the view: http_cache needs the rendered body,
            # so the view answers with the Django adapter's envelope response.
            return success_response(data)
        return Response(data)

    if route.params:
        handler = path_params(**route.params)(handler)
    if route.does == "etag":
        handler = method_decorator(http_cache(max_age=ETAG_CACHE_MAX_AGE))(handler)
    return handler


def _drf_view(route: Route) -> Any:
    """An ``APIView`` serving ``route`` with backendkit's auth, permissions and throttles."""
    attrs: dict[str, Any] = {route.method.lower(): _drf_handler(route)}
    if route.roles:
        attrs["permission_classes"] = (has_roles(*route.roles),)
    elif route.auth:
        attrs["permission_classes"] = (IsAuthenticated,)
    if route.limits:
        attrs["throttle_classes"] = tuple(
            throttle_for(
                limit.limits,
                failure_policy=limit.failure_policy,
                **({"bucket": limit.key, "name": limit.name} if limit.key != "ip" else {}),
            )
            for limit in route.limits
        )
    return type(f"Drf_{route.name}", (APIView,), attrs).as_view()


drf_harness_patterns = _patterns(_drf_view)

# --------------------------------------------------------------------------- class-based views


class CbvMe(AuthRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return success_response({"id": get_principal(request).user_id})


class CbvAdmin(AuthRequiredMixin, View):
    required_roles = ("admin",)

    def get(self, request: HttpRequest) -> HttpResponse:
        return success_response({"admin": True})


class CbvLimited(RateLimitMixin, View):
    rate_limit = "1/minute"

    def get(self, request: HttpRequest) -> HttpResponse:
        return success_response({"limited": True})


class AsyncCbvMe(AuthRequiredMixin, RateLimitMixin, View):
    rate_limit = RouteLimit("5/minute", key="user")

    async def get(self, request: HttpRequest) -> HttpResponse:
        return success_response({"id": get_principal(request).user_id})


def streamed(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Any:
        yield b'{"requestId": "'
        yield (current_request_id() or "").encode()
        yield b'"}'

    return StreamingHttpResponse(chunks(), content_type="application/json")


# --------------------------------------------------------------------------- harnesses


class _UrlconfHandler(ClientHandler):  # type: ignore[misc]
    """A test-client handler that routes every request through one URLconf."""

    def __init__(self, urlconf: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.urlconf = urlconf

    def get_response(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = self.urlconf
        return super().get_response(request)


def client_for(urlconf: str, **kwargs: Any) -> Client:
    """A Django test client whose requests resolve against ``urlconf``."""
    client = Client(raise_request_exception=False, **kwargs)
    client.handler = _UrlconfHandler(
        urlconf, enforce_csrf_checks=client.handler.enforce_csrf_checks
    )
    return client


def _sender(client: Client) -> Any:
    def send(method: str, path_: str, headers: dict[str, str], body: bytes | None) -> Result:
        extra: dict[str, Any] = {}
        content_type = "application/octet-stream"
        for name, value in headers.items():
            if name.lower() == "content-type":
                # Also in the environ: the test client sets it only for a non-empty body.
                content_type = extra["CONTENT_TYPE"] = value
                continue
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        response = client.generic(
            method, path_, data=body or b"", content_type=content_type, **extra
        )
        return Result(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            b"".join(response.streaming_content) if response.streaming else response.content,
        )

    return send


def _harness(
    name: str, urlconf: str, kit: WebKit | None, api_prefixes: tuple[str, ...] | None
) -> Harness:
    close: Any = lambda: None  # noqa: E731
    if api_prefixes is not None:
        # Narrow the API prefixes of the test project (``["/"]``) for this harness.
        override = override_settings(
            BACKENDKIT={
                "KIT": "tests.adapters._django_app.current_kit",
                "API_PREFIXES": list(api_prefixes),
            }
        )
        override.enable()
        close = override.disable
    kit = use_kit(kit or make_kit())
    PROBE.barrier, PROBE.healthy = None, True
    assert kit.tokens is not None
    return Harness(
        name=name,
        send=_sender(client_for(urlconf)),
        tokens=kit.tokens,
        probe=PROBE,
        extra={"kit": kit},
        close=close,
    )


def django_harness(
    kit: WebKit | None = None, *, api_prefixes: tuple[str, ...] | None = None
) -> Harness:
    """Plain Django function views behind ``BackendKitMiddleware``."""
    return _harness("django", "tests.adapters._django_harness_urls", kit, api_prefixes)


def drf_harness(
    kit: WebKit | None = None, *, api_prefixes: tuple[str, ...] | None = None
) -> Harness:
    """DRF ``APIView``s with backendkit's exception handler, auth, parser and throttles."""
    return _harness("drf", "tests.adapters._drf_harness_urls", kit, api_prefixes)


def as_json(result: Result) -> Any:
    return jsonlib.loads(result.body)
