"""FastAPI dependencies of the routes: the services; the per-account login limit."""

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from backendkit.adapters.fastapi import get_cycle
from backendkit.web import aenforce_limit, route_rule
from examples.fastapi_app.services import Services

__all__ = ["Svc", "account_key", "charge_limit", "get_services"]


def get_services(request: Request) -> Services:
    """The process's [`Services`][examples.fastapi_app.services.Services]."""
    services: Services = request.app.state.services
    return services


#: ``svc: Svc`` in a route's parameters.
Svc = Annotated[Services, Depends(get_services)]


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"


async def charge_limit(request: Request, svc: Services, limits: str, name: str, key: str) -> None:
    """Charge one hit of ``limits`` on ``key`` and add the rate-limit headers (429 when out).

    For a key the route computes from its validated body: the adapter's ``RateLimit``
    computes its key before the route runs, so it cannot see the validated email.
    """
    headers = await aenforce_limit(svc.limiter, route_rule(limits, name), key)
    get_cycle(request).add_headers(headers)
