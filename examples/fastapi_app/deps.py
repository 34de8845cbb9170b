"""FastAPI dependencies of the routes: the services."""

from typing import Annotated

from fastapi import Depends, Request

from examples.fastapi_app.services import Services

__all__ = ["Svc", "get_services"]


def get_services(request: Request) -> Services:
    """The process's [`Services`][examples.fastapi_app.services.Services]."""
    services: Services = request.app.state.services
    return services


#: ``svc: Svc`` in a route's parameters.
Svc = Annotated[Services, Depends(get_services)]
