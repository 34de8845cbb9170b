"""The request method as a bounded value: the client picks the method, so anything outside
the standard set is folded into one value before it reaches a metric label or a span."""

from __future__ import annotations

__all__ = ["OTHER_METHOD", "fold_method"]

OTHER_METHOD = "_OTHER"
"""The value of any method outside RFC 9110's and ``PATCH`` (OpenTelemetry's convention)."""

_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


def fold_method(method: str) -> str:
    """``method`` when it is a standard one (as sent: methods are case-sensitive), else
    ``_OTHER``.

    Example:
        >>> fold_method("GET"), fold_method("PURGE"), fold_method("get")
        ('GET', '_OTHER', '_OTHER')
    """
    return method if method in _METHODS else OTHER_METHOD
