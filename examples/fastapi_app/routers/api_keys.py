"""``/api/v1/auth/api-keys``: a signed-in user's API keys (create, list, revoke)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from backendkit.adapters.fastapi import CurrentUser, JsonBody
from backendkit.auth import ApiKeyRequest, new_api_key_body
from backendkit.responses import Envelope, success
from examples._shared.auth_extras import keys_newest_first
from examples._shared.schemas import ApiKeyOut, NewApiKeyOut
from examples.fastapi_app.deps import Svc

__all__ = ["router"]

router = APIRouter(prefix="/auth/api-keys", tags=["api-keys"])

KeyId = Annotated[str, Path(alias="id", description="The key's id.")]


@router.post("", status_code=201, response_model=Envelope[NewApiKeyOut], responses={403: {}})
async def create_key(
    user: CurrentUser, body: Annotated[ApiKeyRequest, JsonBody(ApiKeyRequest)], svc: Svc
) -> dict[str, Any]:
    """Create a key acting as the caller; its full text is in this answer only.

    Only a session (this API's access token, or the identity provider's) may create keys:
    a caller authenticated by a key gets ``403``, as does one asking for scopes it lacks.
    """
    new = await svc.api_keys.acreate(
        user, name=body.name, scopes=body.scopes, expires_in=body.expires_in
    )
    return success(new_api_key_body(new), "API key created")


@router.get("", response_model=Envelope[list[ApiKeyOut]])
async def list_keys(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The caller's keys that are not revoked, newest first, without their secrets."""
    keys = await svc.api_keys.alist_keys(user.user_id)
    return success(keys_newest_first(keys), "API keys retrieved successfully")


@router.delete("/{id}", status_code=204, response_class=Response, responses={404: {}})
async def revoke_key(key_id: KeyId, user: CurrentUser, svc: Svc) -> Response:
    """Revoke one of the caller's keys: refused from the next request on, by every worker
    (another user's key id is a ``404``, like an unknown one)."""
    await svc.api_keys.arevoke(user.user_id, key_id)
    return Response(status_code=204)
