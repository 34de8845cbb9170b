"""Whole answers an adapter's helpers translate into their framework's response: a JSON
body with its ETag (``304`` on a match), and a health route's report.

Example:
    >>> first = conditional_response("GET", None, {"id": 1}, cache_control="max-age=60")
    >>> first.status, sorted(first.headers)
    (200, ['Cache-Control', 'ETag'])
    >>> again = conditional_response("GET", first.headers["ETag"], {"id": 1})
    >>> again.status, again.body, again.media_type
    (304, b'', '')
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from backendkit.responses import RenderedResponse, render_json
from backendkit.web._caching import conditional
from backendkit.web._cycle import RequestCycle
from backendkit.web._headers import JSON_CONTENT_TYPE
from backendkit.web._health import HealthReport, acheck_health, check_health, health_response
from backendkit.web._pipeline import Pipeline

__all__ = ["HealthRoute", "conditional_response"]


def conditional_response(
    method: str,
    if_none_match: str | None,
    content: Any,
    *,
    status: int = 200,
    cache_control: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> RenderedResponse:
    """``content`` as JSON with a strong ``ETag`` (see [`conditional`][backendkit.web.conditional]).

    A ``GET``/``HEAD`` whose ``If-None-Match`` matches gets a ``304`` with no body and no
    media type (send no ``Content-Type``); ``cache_control`` is the ``Cache-Control`` value
    either way, over one in ``headers``.
    """
    code, extra, body = conditional(method, if_none_match, status, render_json(content))
    merged = {**(headers or {}), **extra}
    if cache_control is not None:
        merged = {name: value for name, value in merged.items() if name.lower() != "cache-control"}
        merged["Cache-Control"] = cache_control
    return RenderedResponse(code, merged, body, JSON_CONTENT_TYPE if code != 304 else "")


class HealthRoute:
    """A health route of ``pipeline``'s app at ``path``: the app-wide default limit never
    charges it, and each request runs the ``probes`` (the keywords of
    [`check_health`][backendkit.web.check_health]: ``database=``, ``redis=``, ``checks=``,
    ``timeout=``) and renders the report with the kit's error format and ``retry_after``.

    Raises:
        TypeError: a keyword ``check_health`` does not take (when the route is added).
    """

    __slots__ = ("_kit", "_probes")

    def __init__(self, pipeline: Pipeline, path: str, **probes: Any) -> None:
        inspect.signature(check_health).bind(**probes)
        pipeline.exempt(path)
        self._kit, self._probes = pipeline.kit, probes

    def answer(self, cycle: RequestCycle | None) -> RenderedResponse:
        """Run the probes (blocking, each in a thread) and render the report."""
        if cycle is not None:
            cycle.unobserve()  # probes are not traffic: request metrics leave them out
        return self._render(check_health(**self._probes), cycle)

    async def aanswer(self, cycle: RequestCycle | None) -> RenderedResponse:
        """Async twin of [`answer`][backendkit.web.HealthRoute.answer]."""
        if cycle is not None:
            cycle.unobserve()
        return self._render(await acheck_health(**self._probes), cycle)

    def _render(self, report: HealthReport, cycle: RequestCycle | None) -> RenderedResponse:
        kit = self._kit
        return health_response(
            report,
            request_id=None if cycle is None else cycle.request_id,
            problem=kit.problem,
            retry_after=kit.settings.retry_after,
        )
