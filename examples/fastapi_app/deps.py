"""FastAPI dependencies of the routes: the services, the client address, extra limits."""

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from backendkit.adapters.fastapi import get_cycle, get_kit
from backendkit.web import aenforce_limit, client_key, route_rule
from examples.fastapi_app.services import Services

__all__ = ["Svc", "account_key", "charge_limit", "client_address", "get_services"]


def get_services(request: Request) -> Services:
    """The process's [`Services`][examples.fastapi_app.services.Services]."""
    services: Services = request.app.state.services
    return services


#: ``svc: Svc`` in a route's parameters.
Svc = Annotated[Services, Depends(get_services)]


def client_address(request: Request) -> str:
    """The client's address, read behind the trusted proxies (``BACKENDKIT_TRUSTED_PROXIES``)."""
    kit = get_kit(request)
    forwarded = request.headers.getlist(kit.ip_resolver.header_name)
    peer = request.client.host if request.client else None
    return client_key(kit, peer=peer, forwarded=",".join(forwarded) or None)


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"


async def charge_limit(request: Request, svc: Services, limits: str, name: str, key: str) -> None:
    """Charge one hit of ``limits`` on ``key`` and add the rate-limit headers (429 when out)."""
    headers = await aenforce_limit(svc.limiter, route_rule(limits, name), key)
    get_cycle(request).add_headers(headers)
