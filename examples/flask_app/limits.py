"""Rate-limit helpers of the views: the client address and the per-account login key."""

from __future__ import annotations

import hashlib

from flask import request

from backendkit.adapters.flask import current_cycle, current_kit
from backendkit.web import client_key, enforce_limit, route_rule
from examples.flask_app.services import services

__all__ = ["account_key", "charge_limit", "client_address"]


def client_address() -> str:
    """The client's address, read behind the trusted proxies (``BACKENDKIT_TRUSTED_PROXIES``)."""
    kit = current_kit()
    forwarded = request.headers.getlist(kit.ip_resolver.header_name)
    return client_key(kit, peer=request.remote_addr, forwarded=",".join(forwarded) or None)


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"


def charge_limit(limits: str, name: str, key: str) -> None:
    """Charge one hit of ``limits`` on ``key`` and add the rate-limit headers (429 when out)."""
    headers = enforce_limit(services().limiter, route_rule(limits, name), key)
    current_cycle().add_headers(headers)
