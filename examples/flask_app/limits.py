"""Rate-limit helpers of the views: the per-account login key, and charging a limit on it."""

from __future__ import annotations

import hashlib

from backendkit.adapters.flask import current_cycle
from backendkit.web import enforce_limit, route_rule
from examples.flask_app.services import services

__all__ = ["account_key", "charge_limit"]


def account_key(address: str, email: str) -> str:
    """Rate-limit key of one (client address, email) pair; the email stays out of Redis."""
    digest = hashlib.sha256(f"{address}\n{email}".encode()).hexdigest()[:32]
    return f"account:{digest}"


def charge_limit(limits: str, name: str, key: str) -> None:
    """Charge one hit of ``limits`` on ``key`` and add the rate-limit headers (429 when out).

    For a key the view computes from its validated body: the adapter's ``@rate_limit``
    computes its key before the view runs, so it cannot see the validated email.
    """
    headers = enforce_limit(services().limiter, route_rule(limits, name), key)
    current_cycle().add_headers(headers)
