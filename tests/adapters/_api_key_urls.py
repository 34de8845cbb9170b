"""Django and DRF views of tests/adapters/test_api_keys.py: each answers the principal."""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backendkit.adapters.django import get_principal, require_auth, success_response
from backendkit.web import Principal


def describe(principal: Principal, auth: Any = None) -> dict[str, Any]:
    """What every framework's view answers about its caller."""
    return {
        "userId": principal.user_id,
        "method": principal.method,
        "scopes": sorted(principal.scopes),
        "roles": sorted(principal.roles),
        "keyId": getattr(principal.claims, "id", None),
        "auth": None if auth is None else type(auth).__name__,
    }


@require_auth
def django_me(request: HttpRequest) -> HttpResponse:
    return success_response(describe(get_principal(request)))


class DrfMe(APIView):  # type: ignore[misc]
    permission_classes: ClassVar[list[Any]] = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response(describe(request.user, request.auth))


urlpatterns = [
    path("api/django/me", django_me),
    path("api/drf/me", DrfMe.as_view()),
]
