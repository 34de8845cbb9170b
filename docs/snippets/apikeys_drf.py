"""DRF: JWTAuthentication accepts API keys too; request.auth is then the ApiKey."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:  # run on its own (the docs check): a bare project is enough
    settings.configure()
    django.setup()

# --8<-- [start:views]
from typing import Any

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backendkit.adapters.drf import JWTAuthentication, has_scopes
from backendkit.auth import ApiKey, api_key_body


class Me(APIView):
    authentication_classes = (JWTAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request: Any) -> Response:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        return Response(
            {
                "id": request.user.user_id,
                "method": request.user.method,  # "bearer" or "api_key"
                "key": None if key is None else api_key_body(key),
            }
        )


class Notes(APIView):
    # A key created with scopes=["notes:read"] passes; one without that scope is a 403.
    permission_classes = (has_scopes("notes:read"),)

    def get(self, request: Any) -> Response:
        return Response([])


urlpatterns = [path("api/drf/me", Me.as_view()), path("api/drf/notes", Notes.as_view())]
# --8<-- [end:views]
