"""Response header constants shared by every adapter."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "JSON_CONTENT_TYPE",
    "NO_STORE",
    "REQUEST_ID_HEADER",
    "SECURITY_HEADERS",
]

#: The request/response header carrying the request id.
REQUEST_ID_HEADER = "X-Request-ID"

#: Content type of every JSON response (charset stated for old clients).
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

#: ``Cache-Control`` value for responses that carry or depend on credentials.
NO_STORE = "no-store"

#: Headers added to every response.
SECURITY_HEADERS: Mapping[str, str] = MappingProxyType({"X-Content-Type-Options": "nosniff"})
