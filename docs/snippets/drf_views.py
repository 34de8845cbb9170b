"""views.py: DRF views with backendkit's authentication, throttles and envelope."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:  # run on its own (the docs check): a bare project is enough
    settings.configure()
    django.setup()

# --8<-- [start:views]
from typing import Any

from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from backendkit.adapters.drf import RateLimitHeadersMixin, has_roles, throttle_for


class NoteSerializer(serializers.Serializer):  # type: ignore[type-arg]
    title = serializers.CharField(max_length=80)
    priority = serializers.ChoiceField(choices=["low", "high"])


class Notes(RateLimitHeadersMixin, APIView):
    permission_classes = (IsAuthenticated,)
    # One class per rule; DRF authenticates first, so this counts per user.
    throttle_classes = (throttle_for("10/minute", key="user"),)

    def post(self, request: Any) -> Response:
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)  # 400 VALIDATION_ERROR, per field
        return Response({"owner": request.user.user_id, **serializer.validated_data}, status=201)


class Audit(APIView):
    permission_classes = (has_roles("admin", "auditor"),)

    def get(self, request: Any) -> Response:
        return Response({"entries": []})


urlpatterns = [
    path("api/notes", Notes.as_view()),
    path("api/audit", Audit.as_view()),
]
# --8<-- [end:views]
