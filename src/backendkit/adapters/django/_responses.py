"""Envelope responses for function views: ``success``, pages and cursor pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.http import HttpResponse  # type: ignore[import-untyped]

from backendkit.pagination import CursorPage, Page
from backendkit.responses import paginated, render_json, success
from backendkit.web import JSON_CONTENT_TYPE

__all__ = ["page_response", "success_response"]

_BODILESS = frozenset({204, 304})


def _response(payload: Any, status: int, headers: Mapping[str, str] | None) -> HttpResponse:
    if status in _BODILESS:
        # Bodiless statuses carry no envelope, only headers.
        response = HttpResponse(status=status)
        del response["Content-Type"]
    else:
        response = HttpResponse(render_json(payload), status=status, content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def success_response(
    data: Any = None,
    *,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """``{"success": true, "data": ..., "message": ...}`` rendered with pydantic-core.

    ``data`` may be a pydantic model, a dataclass or plain JSON-able values; ``204`` gives an
    empty body.

    Example:
        ```python
        return success_response(user, message="User retrieved successfully")
        ```
    """
    return _response(success(data, message), status, headers)


def page_response(
    page: Page[Any] | CursorPage[Any], *, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A page (or cursor page) in the page envelope, with its ``pagination`` block."""
    return _response(paginated(page), 200, headers)
