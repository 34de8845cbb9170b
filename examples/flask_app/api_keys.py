"""Blueprint ``api_keys`` (``/api/v1/auth/api-keys``): a signed-in user's API keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from backendkit.adapters.flask import current_user, json_body, require_auth
from backendkit.auth import ApiKeyRequest, new_api_key_body
from backendkit.responses import success
from backendkit.web import Principal
from examples._shared.auth_extras import keys_newest_first
from examples.flask_app.services import services

__all__ = ["bp"]

bp = Blueprint("api_keys", __name__, url_prefix="/auth/api-keys")


def _caller() -> Principal:
    user = current_user()
    assert user is not None  # the view is behind require_auth
    return user


@bp.post("")
@require_auth
@json_body(ApiKeyRequest)
def create_key(body: ApiKeyRequest) -> Any:
    """Create a key acting as the caller; its full text is in this answer only.

    Only a session (this API's access token, or the identity provider's) may create keys:
    a caller authenticated by a key gets ``403``, as does one asking for scopes it lacks.
    """
    new = services().api_keys.create(
        _caller(), name=body.name, scopes=body.scopes, expires_in=body.expires_in
    )
    return success(new_api_key_body(new), "API key created"), 201


@bp.get("")
@require_auth
def list_keys() -> Any:
    """The caller's keys that are not revoked, newest first, without their secrets."""
    keys = services().api_keys.list_keys(_caller().user_id)
    return success(keys_newest_first(keys), "API keys retrieved successfully")


@bp.delete("/<key_id>")
@require_auth
def revoke_key(key_id: str) -> Response:
    """Revoke one of the caller's keys: refused from the next request on, by every worker
    (another user's key id is a ``404``, like an unknown one)."""
    services().api_keys.revoke(_caller().user_id, key_id)
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response
