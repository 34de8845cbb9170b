"""Label values a client cannot multiply: the method folded to a known set, the route as its
template (one value for every unmatched path), the status as its three digits."""

from __future__ import annotations

__all__ = ["OTHER_METHOD", "UNMATCHED_ROUTE", "method_label", "route_label", "status_label"]

OTHER_METHOD = "_OTHER"
"""The label of any method outside RFC 9110's and ``PATCH`` (the client chooses it)."""
UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matched (404s of random paths, scanners)."""

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)
# Pre-built strings: a status label is read on every request.
_STATUSES = {code: str(code) for code in range(100, 600)}


def method_label(method: str) -> str:
    """``method`` when it is a standard one (as sent: methods are case-sensitive), else
    ``_OTHER``.

    Example:
        >>> method_label("GET"), method_label("PURGE"), method_label("get")
        ('GET', '_OTHER', '_OTHER')
    """
    return method if method in _METHODS else OTHER_METHOD


def route_label(route: str | None) -> str:
    """The route template, or ``unmatched`` when no route matched."""
    return UNMATCHED_ROUTE if route is None else route


def status_label(status: int | None) -> str:
    """The status as text; a request that recorded none ended in an error (``500``), as the
    access log says."""
    if status is None:
        return "500"
    return _STATUSES.get(status) or str(status)
