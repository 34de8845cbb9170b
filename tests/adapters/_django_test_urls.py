"""URLconf for test_django.py / test_drf.py: API routes under /api/, HTML pages under /html/."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    NotAcceptable,
    PermissionDenied,
    Throttled,
)
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from tests.adapters._django_app import (
    AsyncCbvMe,
    CbvAdmin,
    CbvLimited,
    CbvMe,
    DrfSerializerEcho,
    EchoIn,
    boom,
    django_harness_patterns,
    ok,
    streamed,
)

from backendkit.adapters.django import (
    acharge_limit,
    charge_limit,
    client_key,
    health_view,
    http_cache,
    json_body,
    no_store,
    rate_limit,
    require_auth,
    require_scopes,
    success_response,
)
from backendkit.adapters.drf import RateLimitHeadersMixin, has_scopes, throttle_for
from backendkit.errors import NotFound


def html_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>hello</p>")


def html_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("html page failed")


@csrf_exempt
def form_post(request: HttpRequest) -> HttpResponse:
    # Reading request.POST makes Django parse the body (and raise RequestDataTooBig).
    return success_response({"fields": sorted(request.POST)})


def form_post_protected(request: HttpRequest) -> HttpResponse:
    return success_response({"posted": True})


@require_auth
def protected_post(request: HttpRequest) -> HttpResponse:
    return success_response({"posted": True})


def model_invalid(request: HttpRequest) -> HttpResponse:
    raise ValidationError(
        {
            "email": ValidationError("Enter a valid email address.", code="invalid"),
            "uuid": ValidationError(
                "“%(value)s” is not a valid UUID.", code="invalid", params={"value": "SENTINEL"}
            ),
            "__all__": ValidationError("Dates overlap.", code="overlap"),
        }
    )


def flat_invalid(request: HttpRequest) -> HttpResponse:
    raise ValidationError("Ensure this value is at most %(limit)s.", params={"limit": 5})


def denied(request: HttpRequest) -> HttpResponse:
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

    raise DjangoPermissionDenied("secret reason")


@require_auth
@rate_limit("2/minute", key="user")
def per_user(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@rate_limit("1/minute", key=lambda request: request.headers.get("X-Tenant", "none"), name="tenant")
def per_tenant(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@rate_limit("1/minute", key="user")
def per_user_open(request: HttpRequest) -> HttpResponse:
    """key="user" without require_auth: the token, else the session user, else the address."""
    return success_response({"ok": True})


@rate_limit("1/minute", bucket="login:x")
def literal_bucket(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@rate_limit("3/minute", cost=2, name="costly")
def costly(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@rate_limit("3/minute", name="cheap")
def cheap(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@require_scopes("users:write")
def scoped(request: HttpRequest) -> HttpResponse:
    return success_response({"ok": True})


@http_cache(max_age=60, public=True)
def cached(request: HttpRequest) -> HttpResponse:
    return success_response({"n": 1})


@http_cache(etag=False, no_cache=True)
def cached_no_etag(request: HttpRequest) -> HttpResponse:
    return success_response({"n": 2})


@no_store
def login_like(request: HttpRequest) -> HttpResponse:
    return success_response({"token": "t"})


@require_auth
async def async_me(request: HttpRequest) -> HttpResponse:
    return success_response({"id": request.principal.user_id})


@rate_limit("1/minute")
@json_body(EchoIn)
async def async_echo(request: HttpRequest, body: EchoIn) -> HttpResponse:
    return success_response(body)


@no_store
@http_cache(max_age=5)
async def async_cached(request: HttpRequest) -> HttpResponse:
    return success_response({"async": True})


async def async_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("async failure")


async def async_not_found(request: HttpRequest) -> HttpResponse:
    raise NotFound("No such widget")


@json_body(EchoIn)
def login_per_account(request: HttpRequest, body: EchoIn) -> HttpResponse:
    # A second, computed-key limit charged inside the view: per (client address, name).
    key = f"{client_key(request)}:{body.name}"
    charge_limit(request, "1/minute", bucket=key, name="login-account")
    return success_response({"key": key})


@json_body(EchoIn)
async def async_login_per_account(request: HttpRequest, body: EchoIn) -> HttpResponse:
    key = f"{client_key(request)}:{body.name}"
    await acharge_limit(request, "1/minute", bucket=key, name="async-login-account")
    return success_response({"key": key})


def bad_key(request: HttpRequest) -> HttpResponse:
    charge_limit(request, "1/minute", key="tenant", name="bad-key")  # type: ignore[arg-type]
    return success_response()


@json_body()
def raw_json(request: HttpRequest, body: Any) -> HttpResponse:
    return success_response({"type": type(body).__name__})


class DecoratedCbv(View):
    @method_decorator(require_auth)
    def get(self, request: HttpRequest) -> HttpResponse:
        return success_response({"cbv": True})


# --------------------------------------------------------------------------- DRF


class ChoiceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=["a", "b"])
    code = serializers.CharField()
    items = serializers.ListField(child=serializers.IntegerField())
    address = serializers.DictField(child=serializers.CharField(max_length=3))

    def validate_code(self, value: str) -> str:
        # A custom validator that (wrongly) quotes the input back.
        raise serializers.ValidationError(f"{value} is taken")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raise serializers.ValidationError("Whole object rejected")


class DrfChoices(APIView):
    def post(self, request: Any) -> Response:
        ChoiceSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({})


class ItemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    qty = serializers.IntegerField()


class NestedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    lines = ItemSerializer(many=True)


class DrfNested(APIView):
    def post(self, request: Any) -> Response:
        NestedSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({})


class DrfNoAuthHeader(APIView):
    authentication_classes: tuple[Any, ...] = ()
    permission_classes = (IsAuthenticated,)

    def get(self, request: Any) -> Response:
        return Response({})


class FailingAuthentication(BaseAuthentication):  # type: ignore[misc]
    """Another DRF authenticator, failing the way BasicAuthentication does on bad credentials."""

    def authenticate(self, request: Any) -> Any:
        if request.META.get("HTTP_AUTHORIZATION", "").startswith("Basic "):
            raise AuthenticationFailed("Bad credentials")
        return None

    def authenticate_header(self, request: Any) -> str:
        return "Basic"


class DrfBasic(APIView):
    authentication_classes = (FailingAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Any) -> Response:
        return Response({})


class DrfDenied(APIView):
    def get(self, request: Any) -> Response:
        raise PermissionDenied("Only owners may look")


class DrfMissing(APIView):
    def get(self, request: Any) -> Response:
        from django.contrib.auth.models import Group

        get_object_or_404(Group.objects.none(), pk=1)
        return Response({})


class DrfThrottled(APIView):
    def get(self, request: Any) -> Response:
        raise Throttled(wait=12)


class Teapot(APIException):
    status_code = 418
    default_detail = "I am a teapot"


class BadGateway(APIException):
    status_code = 502
    default_detail = "upstream at 10.0.0.7 failed"


class DrfTeapot(APIView):
    def get(self, request: Any) -> Response:
        raise Teapot()


class DrfBadGateway(APIView):
    def get(self, request: Any) -> Response:
        raise BadGateway()


class DrfNotAcceptable(APIView):
    def get(self, request: Any) -> Response:
        raise NotAcceptable()


class DrfEmpty(APIView):
    def delete(self, request: Any) -> Response:
        return Response(status=204)


class DrfData(APIView):
    def post(self, request: Any) -> Response:
        return Response({"received": request.data})


class DrfUserThrottle(RateLimitHeadersMixin, APIView):
    throttle_classes = (throttle_for("2/minute", key="user"),)

    def get(self, request: Any) -> Response:
        return Response({})


_shared = throttle_for("1/minute", name="shared-rule")


class DrfSharedA(APIView):
    throttle_classes = (_shared,)

    def get(self, request: Any) -> Response:
        return Response({})


class DrfSharedB(APIView):
    throttle_classes = (_shared,)

    def get(self, request: Any) -> Response:
        return Response({})


_first = throttle_for("1/minute", name="first-rule")
_second = throttle_for("5/minute", name="second-rule")


class DrfTwoRules(APIView):
    throttle_classes = (
        _first,
        _second,
    )

    def get(self, request: Any) -> Response:
        return Response({})


class DrfTenantThrottle(APIView):
    throttle_classes = (throttle_for("1/minute", key=lambda r: r.headers.get("X-Tenant", "-")),)

    def get(self, request: Any) -> Response:
        return Response({})


class HeaderUser:
    """A user that a session (or any other DRF authenticator) would set."""

    is_authenticated = True

    def __init__(self, pk: str) -> None:
        self.pk = pk


class HeaderUserAuthentication(BaseAuthentication):  # type: ignore[misc]
    def authenticate(self, request: Any) -> Any:
        name = request.META.get("HTTP_X_USER")
        return (HeaderUser(name), None) if name else None


class DrfSessionUser(APIView):
    authentication_classes = (HeaderUserAuthentication,)
    throttle_classes = (throttle_for("1/minute", key="user"),)

    def get(self, request: Any) -> Response:
        return Response({})


class DrfCostly(APIView):
    throttle_classes = (throttle_for("3/minute", bucket="login:x", cost=2),)

    def get(self, request: Any) -> Response:
        return Response({})


class DrfScoped(APIView):
    permission_classes = (has_scopes("users:write"),)

    def get(self, request: Any) -> Response:
        return Response({})


urlpatterns = [
    path("api/", ok),
    path("api/ok", ok),
    path("api/boom", boom),
    path("api/slash/", ok),
    path("api/form", form_post),
    path("api/form-protected", form_post_protected),
    path("api/protected-post", protected_post),
    path("api/model-invalid", model_invalid),
    path("api/flat-invalid", flat_invalid),
    path("api/denied", denied),
    path("api/per-user", per_user),
    path("api/per-tenant", per_tenant),
    path("api/per-user-open", per_user_open),
    path("api/literal-bucket", literal_bucket),
    path("api/costly", costly),
    path("api/cheap", cheap),
    path("api/scoped", scoped),
    path("api/cached", cached),
    path("api/cached-no-etag", cached_no_etag),
    path("api/login", login_like),
    path("api/async-me", async_me),
    path("api/async-echo", async_echo),
    path("api/async-cached", async_cached),
    path("api/async-boom", async_boom),
    path("api/async-not-found", async_not_found),
    path("api/raw-json", raw_json),
    path("api/login-account", login_per_account),
    path("api/async-login-account", async_login_per_account),
    path("api/bad-key", bad_key),
    path("api/stream", streamed),
    path("api/cbv/me", CbvMe.as_view()),
    path("api/cbv/admin", CbvAdmin.as_view()),
    path("api/cbv/limited", CbvLimited.as_view()),
    path("api/cbv/async-me", AsyncCbvMe.as_view()),
    path("api/cbv/decorated", DecoratedCbv.as_view()),
    path("api/health", health_view()),
    path("api/health-failing", health_view(database=None, checks={"search": lambda: False})),
    path("api/drf/serializer-echo", DrfSerializerEcho.as_view()),
    path("api/drf/choices", DrfChoices.as_view()),
    path("api/drf/nested", DrfNested.as_view()),
    path("api/drf/no-auth-header", DrfNoAuthHeader.as_view()),
    path("api/drf/basic", DrfBasic.as_view()),
    path("api/drf/denied", DrfDenied.as_view()),
    path("api/drf/missing", DrfMissing.as_view()),
    path("api/drf/throttled", DrfThrottled.as_view()),
    path("api/drf/teapot", DrfTeapot.as_view()),
    path("api/drf/bad-gateway", DrfBadGateway.as_view()),
    path("api/drf/not-acceptable", DrfNotAcceptable.as_view()),
    path("api/drf/empty", DrfEmpty.as_view()),
    path("api/drf/data", DrfData.as_view()),
    path("api/drf/user-throttle", DrfUserThrottle.as_view()),
    path("api/drf/shared-a", DrfSharedA.as_view()),
    path("api/drf/shared-b", DrfSharedB.as_view()),
    path("api/drf/two-rules", DrfTwoRules.as_view()),
    path("api/drf/tenant", DrfTenantThrottle.as_view()),
    path("api/drf/scoped", DrfScoped.as_view()),
    path("api/drf/session-user", DrfSessionUser.as_view()),
    path("api/drf/costly", DrfCostly.as_view()),
    path("html/page", html_page),
    path("html/boom", html_boom),
    path("html/form", form_post_protected),
    *[path("harness/" + str(p.pattern), p.callback) for p in django_harness_patterns],
]

handler400 = "backendkit.adapters.django.views.bad_request"
handler403 = "backendkit.adapters.django.views.permission_denied"
handler404 = "backendkit.adapters.django.views.page_not_found"
handler500 = "backendkit.adapters.django.views.server_error"
