"""Envelope responses for function views (``success``, pages) and the health-check view."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import connections  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.django._middleware import DEFAULT_LIMIT_EXEMPT
from backendkit.adapters.django._request import get_request_id, to_django
from backendkit.errors import MethodNotAllowed
from backendkit.listing import CursorPage, Page
from backendkit.responses import paginated, render_json, success
from backendkit.web import JSON_CONTENT_TYPE, check_health, health_response

__all__ = ["health_view", "page_response", "success_response"]

_SAFE = ("GET", "HEAD")


def success_response(
    data: Any = None,
    *,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """``{"success": true, "data": ..., "message": ...}`` (pydantic models, dataclasses or
    plain values); ``204`` and ``304`` have no body."""
    if status in (204, 304):
        response = HttpResponse(status=status)
        del response["Content-Type"]
    else:
        body = render_json(success(data, message))
        response = HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def page_response(
    page: Page[Any] | CursorPage[Any], *, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    """A page (or cursor page) in the page envelope, with its ``pagination`` block."""
    response = HttpResponse(render_json(paginated(page)), content_type=JSON_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _database_probe(alias: str) -> Callable[[], bool]:
    def probe() -> bool:
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            connection.close()  # probes run on a worker thread: its connection must go
        return True

    return probe


def health_view(
    *,
    database: str | None = "default",
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> Callable[[HttpRequest], HttpResponse]:
    """A ``GET``/``HEAD`` view: 200 when every probe answers, else 503 naming the failing
    ones ([`check_health`][backendkit.web.check_health]; ``database`` is a Django alias).
    Never charged the default limit.

    Example:
        ```python
        urlpatterns = [path("api/health", health_view(database="default"))]
        ```
    """
    database_probe = _database_probe(database) if database is not None else None

    def view(request: HttpRequest) -> HttpResponse:
        if request.method not in _SAFE:
            raise MethodNotAllowed(allowed=_SAFE)
        report = check_health(database=database_probe, redis=redis, checks=checks, timeout=timeout)
        kit = current_kit()
        return to_django(
            health_response(
                report,
                request_id=get_request_id(request),
                problem=kit.problem,
                retry_after=kit.settings.retry_after,
            )
        )

    setattr(view, DEFAULT_LIMIT_EXEMPT, True)  # probes poll it
    return view
