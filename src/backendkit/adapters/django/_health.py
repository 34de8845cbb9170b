"""A health-check view: database and Redis reachability in the envelope (200 or 503)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backendkit._extras import require

require("django", "django")

from django.db import connections  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._middleware import DEFAULT_LIMIT_EXEMPT
from backendkit.adapters.django._request import get_request_id, to_django
from backendkit.errors import MethodNotAllowed
from backendkit.web import check_health, health_response

__all__ = ["health_view"]

_SAFE = ("GET", "HEAD")


def _database_probe(alias: str) -> Callable[[], bool]:
    def probe() -> bool:
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        finally:
            # Probes run on a worker thread: its thread-local connection must not linger.
            connection.close()
        return True

    return probe


def health_view(
    *,
    database: str | None = "default",
    redis: Any = None,
    checks: Mapping[str, Any] | None = None,
    timeout: float = 1.0,
) -> Callable[[HttpRequest], HttpResponse]:
    """Build a ``GET``/``HEAD`` view answering ``200`` when every dependency answers, else ``503``.

    Args:
        database: the Django database alias to probe with ``SELECT 1`` (``None``: skip).
        redis: a Redis connector (anything with ``ping()``) or a callable.
        checks: more named probes (callables returning a truthy value).
        timeout: seconds each probe may take.

    Example:
        ```python
        urlpatterns = [path("api/health", health_view(database="default"))]
        ```
    """

    def view(request: HttpRequest) -> HttpResponse:
        if request.method not in _SAFE:
            raise MethodNotAllowed(allowed=_SAFE)
        report = check_health(
            database=_database_probe(database) if database is not None else None,
            redis=redis,
            checks=checks,
            timeout=timeout,
        )
        kit = get_kit()
        return to_django(
            health_response(
                report,
                request_id=get_request_id(request),
                problem=kit.problem,
                retry_after=kit.settings.retry_after,
            )
        )

    # Probes poll it: the app-wide default limit never applies, even under an API prefix.
    setattr(view, DEFAULT_LIMIT_EXEMPT, True)
    return view
