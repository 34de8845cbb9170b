"""Label values a client cannot multiply: the method folded to a known set, the route as its
template (one value for every unmatched path), the status as its three digits."""

from __future__ import annotations

from backendkit.web._methods import OTHER_METHOD
from backendkit.web._methods import fold_method as method_label

__all__ = ["OTHER_METHOD", "UNMATCHED_ROUTE", "method_label", "route_label", "status_label"]

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (404s of random paths, scanners)."""

# Pre-built strings: a status label is read on every request.
_STATUSES = {code: str(code) for code in range(100, 600)}


def route_label(route: str | None) -> str:
    """The route template, or ``unmatched`` when no route matched."""
    return UNMATCHED_ROUTE if route is None else route


def status_label(status: int | None) -> str:
    """The status as text; a request that recorded none ended in an error (``500``), as the
    access log says."""
    if status is None:
        return "500"
    return _STATUSES.get(status) or str(status)
