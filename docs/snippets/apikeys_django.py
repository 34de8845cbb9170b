"""Django views: create, list and revoke API keys (the kit comes from settings.BACKENDKIT)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from backendkit.adapters.django import (
    current_kit,
    get_principal,
    read_json,
    require_auth,
    success_response,
)
from backendkit.auth import ApiKeyRequest, ApiKeyService, api_key_body, new_api_key_body
from backendkit.errors import ConfigurationError


def api_keys() -> ApiKeyService:
    service = current_kit().api_keys
    if service is None:
        raise ConfigurationError("settings.BACKENDKIT's kit needs api_keys")
    return service


@require_http_methods(["GET", "POST"])
@require_auth
def keys(request: HttpRequest) -> HttpResponse:
    user = get_principal(request)
    if request.method == "POST":
        body = read_json(request, ApiKeyRequest)
        new = api_keys().create(
            user, name=body.name, scopes=body.scopes, expires_in=body.expires_in
        )
        return success_response(new_api_key_body(new), status=201)
    return success_response([api_key_body(key) for key in api_keys().list_keys(user.user_id)])


@require_http_methods(["DELETE"])
@require_auth
def revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    api_keys().revoke(get_principal(request).user_id, key_id)
    return success_response(status=204)


urlpatterns = [
    path("api/v1/auth/api-keys", keys),
    path("api/v1/auth/api-keys/<str:key_id>", revoke),
]
