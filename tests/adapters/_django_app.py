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
from django.test import Client
from django.test.client import ClientHandler
from django.urls import path
from django.views import View
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from tests.adapters._apps import SECRET, EchoIn, Harness, Probe, Result, make_kit

from backendkit.adapters.django import (
    AuthRequiredMixin,
    RateLimitMixin,
    charge_limit,
    get_principal,
    json_body,
    rate_limit,
    require_auth,
    require_roles,
    reset_config,
    success_response,
)
from backendkit.adapters.drf import has_roles, throttle_for
from backendkit.errors import Conflict
from backendkit.logging import current_request_id
from backendkit.validation import validate
from backendkit.web import WebKit, page_params

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


@require_GET
def ok(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


def app_error(request: HttpRequest) -> HttpResponse:
    raise Conflict("Widget already exists")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET)


@require_POST
@json_body(EchoIn)
def echo(request: HttpRequest, body: EchoIn) -> HttpResponse:
    return success_response(body)


@require_auth
def me(request: HttpRequest) -> HttpResponse:
    return success_response({"id": get_principal(request).user_id})


@require_roles("admin")
def admin(request: HttpRequest) -> HttpResponse:
    return success_response({"admin": True})


@rate_limit("2/minute")
def limited(request: HttpRequest) -> HttpResponse:
    return success_response({"limited": True})


@rate_limit("5/minute", failure_policy="fail_closed")
def guarded(request: HttpRequest) -> HttpResponse:
    return success_response({"limited": True})


@rate_limit("3/minute")
def limited_twice(request: HttpRequest) -> HttpResponse:
    charge_limit(request, "2/hour", key=lambda _: "pair", name="second")
    return success_response({"limited": True})


@rate_limit("2/minute")
def limited_loose(request: HttpRequest) -> HttpResponse:
    charge_limit(request, "50/hour", key=lambda _: "pair", name="loose")
    return success_response({"limited": True})


def items(request: HttpRequest) -> HttpResponse:
    params = page_params(request.GET)
    return success_response({"page": params.page, "perPage": params.per_page})


def ctx(request: HttpRequest) -> HttpResponse:
    if PROBE.barrier is not None:
        PROBE.barrier.wait(10)
    return success_response({"requestId": current_request_id()})


def typed(request: HttpRequest, number: str) -> HttpResponse:
    # Django's own validation: a form field's clean() raises django ValidationError.
    value = forms.IntegerField().clean(number)
    return success_response({"number": value})


django_harness_patterns = [
    path("ok", ok),
    path("app-error", app_error),
    path("boom", boom),
    path("echo", echo),
    path("me", me),
    path("admin", admin),
    path("limited", limited),
    path("guarded", guarded),
    path("limited-twice", limited_twice),
    path("limited-loose", limited_loose),
    path("items", items),
    path("ctx", ctx),
    path("typed/<str:number>", typed),
]

# --------------------------------------------------------------------------- DRF views


class EchoSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField()
    count = serializers.IntegerField(default=1)


class DrfOk(APIView):
    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class DrfAppError(APIView):
    def get(self, request: Any) -> Response:
        raise Conflict("Widget already exists")


class DrfBoom(APIView):
    def get(self, request: Any) -> Response:
        raise RuntimeError(SECRET)


class DrfEcho(APIView):
    def post(self, request: Any) -> Response:
        # The harness contract: the body goes through the core into EchoIn.
        return Response(validate(EchoIn, request.data).model_dump())


class DrfSerializerEcho(APIView):
    def post(self, request: Any) -> Response:
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class DrfMe(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request: Any) -> Response:
        return Response({"id": request.user.user_id})


class DrfAdmin(APIView):
    permission_classes = (has_roles("admin"),)

    def get(self, request: Any) -> Response:
        return Response({"admin": True})


class DrfLimited(APIView):
    throttle_classes = (throttle_for("2/minute"),)

    def get(self, request: Any) -> Response:
        return Response({"limited": True})


class DrfGuarded(APIView):
    throttle_classes = (throttle_for("5/minute", failure_policy="fail_closed"),)

    def get(self, request: Any) -> Response:
        return Response({"limited": True})


class DrfLimitedTwice(APIView):
    throttle_classes = (
        throttle_for("3/minute"),
        throttle_for("2/hour", key=lambda _: "pair", name="second"),
    )

    def get(self, request: Any) -> Response:
        return Response({"limited": True})


class DrfLimitedLoose(APIView):
    throttle_classes = (
        throttle_for("2/minute"),
        throttle_for("50/hour", key=lambda _: "pair", name="loose"),
    )

    def get(self, request: Any) -> Response:
        return Response({"limited": True})


class DrfItems(APIView):
    def get(self, request: Any) -> Response:
        params = page_params(request.query_params)
        return Response({"page": params.page, "perPage": params.per_page})


class DrfCtx(APIView):
    def get(self, request: Any) -> Response:
        if PROBE.barrier is not None:
            PROBE.barrier.wait(10)
        return Response({"requestId": current_request_id()})


class DrfTyped(APIView):
    def get(self, request: Any, number: str) -> Response:
        field = serializers.IntegerField()
        try:
            value = field.run_validation(number)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"number": exc.detail}) from exc
        return Response({"number": value})


drf_harness_patterns = [
    path("ok", DrfOk.as_view()),
    path("app-error", DrfAppError.as_view()),
    path("boom", DrfBoom.as_view()),
    path("echo", DrfEcho.as_view()),
    path("me", DrfMe.as_view()),
    path("admin", DrfAdmin.as_view()),
    path("limited", DrfLimited.as_view()),
    path("guarded", DrfGuarded.as_view()),
    path("limited-twice", DrfLimitedTwice.as_view()),
    path("limited-loose", DrfLimitedLoose.as_view()),
    path("items", DrfItems.as_view()),
    path("ctx", DrfCtx.as_view()),
    path("typed/<str:number>", DrfTyped.as_view()),
]

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
    rate_limit = "5/minute"
    rate_limit_key = "user"

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
        for name, value in headers.items():
            if name.lower() == "content-type":
                continue
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        content_type = next(
            (v for k, v in headers.items() if k.lower() == "content-type"),
            "application/octet-stream",
        )
        response = client.generic(
            method, path_, data=body or b"", content_type=content_type, **extra
        )
        return Result(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            b"".join(response.streaming_content) if response.streaming else response.content,
        )

    return send


def _harness(name: str, urlconf: str, kit: WebKit | None = None) -> Harness:
    kit = use_kit(kit or make_kit())
    PROBE.barrier = None
    assert kit.tokens is not None
    return Harness(
        name=name,
        send=_sender(client_for(urlconf)),
        tokens=kit.tokens,
        probe=PROBE,
        native_validation=("GET", "/typed/not-a-number", {}, None),
        extra={"kit": kit},
    )


def django_harness(kit: WebKit | None = None) -> Harness:
    """Plain Django function views behind ``BackendKitMiddleware``."""
    return _harness("django", "tests.adapters._django_harness_urls", kit)


def drf_harness(kit: WebKit | None = None) -> Harness:
    """DRF ``APIView``s with backendkit's exception handler, auth, parser and throttles."""
    return _harness("drf", "tests.adapters._drf_harness_urls", kit)


def as_json(result: Result) -> Any:
    return jsonlib.loads(result.body)
