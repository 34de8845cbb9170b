"""FastAPI dependencies of the routes: the services, and the caller as routes authorize it."""

from typing import Annotated, Any

from fastapi import Depends, Request

from backendkit.adapters.fastapi import CurrentUser
from backendkit.errors import Forbidden
from backendkit.web import Principal
from examples._shared.auth_extras import acting_principal
from examples.fastapi_app.services import Services

__all__ = ["AdminOnly", "Caller", "Svc", "get_services"]


def get_services(request: Request) -> Services:
    """The process's [`Services`][examples.fastapi_app.services.Services]."""
    services: Services = request.app.state.services
    return services


#: ``svc: Svc`` in a route's parameters.
Svc = Annotated[Services, Depends(get_services)]


async def acting_user(user: CurrentUser) -> Principal:
    """The authenticated caller with the roles that authorize it: an API key's or a
    provider user's are the local user's current role (``401`` without credentials)."""
    return acting_principal(user)


#: ``user: Caller`` in a route's parameters.
Caller = Annotated[Principal, Depends(acting_user)]


async def admin_only(user: Caller) -> Principal:
    """The caller, who must be an admin (``403`` otherwise)."""
    if not user.has_role("admin"):
        raise Forbidden()
    return user


#: ``dependencies=[AdminOnly]``: admins only, by the caller's local role.
AdminOnly: Any = Depends(admin_only)
