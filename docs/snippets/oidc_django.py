"""Django: provider tokens and the app's own on the same views; the local user decides.

The kit comes from ``settings.BACKENDKIT["KIT"]``: a function returning the kit built with
``providers=[...]`` and the linking ``user_loader``.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from backendkit.adapters.django import get_principal, require_auth, success_response
from backendkit.errors import Forbidden


@require_http_methods(["GET"])
@require_auth
def me(request: HttpRequest) -> HttpResponse:
    user = get_principal(request)  # user_id: the linked local id; user: the local record
    return success_response({"id": user.user_id, "role": user.user["role"], "via": user.method})


@require_http_methods(["PUT"])
@require_auth
def update(request: HttpRequest, user_id: str) -> HttpResponse:
    user = get_principal(request)
    # A provider's sub "1" is not local user 1: only the linked id and the local role count.
    if user.user_id != user_id and user.user["role"] != "admin":
        raise Forbidden("You can only change your own account")
    return success_response({"id": user_id})


urlpatterns = [
    path("api/v1/users/me", me),
    path("api/v1/users/<str:user_id>", update),
]
