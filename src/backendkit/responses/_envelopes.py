"""Envelope builders and rendering: the dicts every body is made of, and their JSON bytes."""

from __future__ import annotations

import http
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from backendkit.errors import AppError, to_app_error
from backendkit.listing import CursorPage, Page

__all__ = [
    "JSON_MEDIA_TYPE",
    "PROBLEM_MEDIA_TYPE",
    "RenderedResponse",
    "error_response",
    "failure",
    "json_response",
    "paginated",
    "pagination_meta",
    "problem_details",
    "render_json",
    "success",
]

#: Media type of envelopes.
JSON_MEDIA_TYPE = "application/json"
#: Media type of RFC 9457 problem details.
PROBLEM_MEDIA_TYPE = "application/problem+json"


def success(data: Any = None, message: str | None = None) -> dict[str, Any]:
    """Build a success envelope; ``message`` is ``null`` when not given.

    Example:
        >>> success({"id": 1}, "User retrieved successfully")
        {'success': True, 'data': {'id': 1}, 'message': 'User retrieved successfully'}
    """
    return {"success": True, "data": data, "message": message}


def failure(error: AppError, request_id: str | None = None) -> dict[str, Any]:
    """Build an error envelope for ``error``; ``details`` is ``[]`` when there are none.

    Pass anything else through [`to_app_error`][backendkit.errors.to_app_error] first (or
    use [`error_response`][backendkit.responses.error_response], which does).

    Example:
        >>> from backendkit.errors import NotFound
        >>> failure(NotFound("User not found"), "req-1")["error"]
        {'code': 'NOT_FOUND', 'message': 'User not found', 'details': [], 'requestId': 'req-1'}
    """
    return {
        "success": False,
        "error": {
            "code": error.code,
            "message": error.message,
            "details": [detail.to_dict() for detail in error.details],
            "requestId": request_id,
        },
    }


def problem_details(
    error: AppError, request_id: str | None = None, *, instance: str | None = None
) -> dict[str, Any]:
    """Build the RFC 9457 ``application/problem+json`` form of ``error``.

    ``type`` is ``about:blank``, so ``title`` is the HTTP status phrase; the wire ``code``,
    the ``details`` and the ``requestId`` travel as extension members with the same names
    as in the envelope.

    Example:
        >>> from backendkit.errors import Conflict
        >>> problem_details(Conflict("Email already registered"), "req-1")["title"]
        'Conflict'
    """
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": _status_phrase(error.status, error.code),
        "status": error.status,
        "detail": error.message,
    }
    if instance is not None:
        problem["instance"] = instance
    problem["code"] = error.code
    problem["details"] = [detail.to_dict() for detail in error.details]
    problem["requestId"] = request_id
    return problem


def _status_phrase(status: int, fallback: str) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return fallback


def pagination_meta(page: Page[Any] | CursorPage[Any]) -> dict[str, Any]:
    """Return the ``pagination`` object of a page envelope.

    A counted page gives ``page``, ``perPage``, ``total`` and ``totalPages``; a page without
    a count gives ``total`` and ``totalPages`` as ``null`` plus ``hasNext``. A cursor page
    gives ``perPage``, ``nextCursor``, ``prevCursor``, ``hasNext`` and ``hasPrev``.
    """
    if isinstance(page, CursorPage):
        return {
            "perPage": page.per_page,
            "nextCursor": page.next_cursor,
            "prevCursor": page.prev_cursor,
            "hasNext": page.has_next,
            "hasPrev": page.has_prev,
        }
    meta: dict[str, Any] = {
        "page": page.page,
        "perPage": page.per_page,
        "total": page.total,
        "totalPages": page.total_pages,
    }
    if page.total is None:
        meta["hasNext"] = page.has_next
    return meta


def paginated(page: Page[Any] | CursorPage[Any]) -> dict[str, Any]:
    """Build a page envelope: the items as ``data`` and [`pagination_meta`][backendkit.responses.pagination_meta].

    Example:
        >>> from backendkit.listing import Page
        >>> paginated(Page(["a"], page=1, per_page=20, total=1, has_next=False))
        {'success': True, 'data': ['a'], 'pagination': {'page': 1, 'perPage': 20, 'total': 1, 'totalPages': 1}}
    """  # noqa: E501
    return {"success": True, "data": list(page.items), "pagination": pagination_meta(page)}


def render_json(obj: Any) -> bytes:
    """Serialize ``obj`` to compact UTF-8 JSON bytes with pydantic-core.

    Pydantic models are written by alias (camelCase for ``ApiModel``); datetimes, dates,
    UUIDs, decimals, enums, dataclasses and sets are handled; non-finite floats become
    ``null`` (``NaN`` is not JSON).

    Raises:
        TypeError: ``obj`` holds a value pydantic-core cannot serialize.

    Example:
        >>> render_json({"success": True, "data": None})
        b'{"success":true,"data":null}'
    """
    try:
        return to_json(obj, by_alias=True, inf_nan_mode="null")
    except PydanticSerializationError as exc:
        raise TypeError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class RenderedResponse:
    """A framework-neutral response that adapters copy into their framework's response.

    ``headers`` holds only what the error requires (``Retry-After``, ``WWW-Authenticate``,
    ``Allow``); adapters add ``Content-Type`` from ``media_type`` and ``X-Request-ID``.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    media_type: str = JSON_MEDIA_TYPE


def json_response(
    payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> RenderedResponse:
    """Render ``payload`` (usually an envelope) into a [`RenderedResponse`][backendkit.responses.RenderedResponse]."""  # noqa: E501
    return RenderedResponse(status, dict(headers or {}), render_json(payload), JSON_MEDIA_TYPE)


def error_response(
    exc: BaseException, *, request_id: str | None, problem: bool = False
) -> RenderedResponse:
    """Render any exception as the client may see it.

    An [`AppError`][backendkit.errors.AppError] keeps its status, code, message, details
    and headers; anything else becomes a generic 500 ``INTERNAL_ERROR`` (log the original
    yourself: nothing of it reaches the body). ``problem=True`` (the ``problem`` value of
    ``Settings.error_format``) renders RFC 9457 problem details instead of the envelope.

    Example:
        >>> response = error_response(KeyError("users.password_hash"), request_id="r1")
        >>> response.status, response.body
        (500, b'{"success":false,"error":{"code":"INTERNAL_ERROR","message":"An unexpected error occurred","details":[],"requestId":"r1"}}')
    """  # noqa: E501
    error = to_app_error(exc)
    if problem:
        body = render_json(problem_details(error, request_id))
        return RenderedResponse(error.status, dict(error.headers), body, PROBLEM_MEDIA_TYPE)
    body = render_json(failure(error, request_id))
    return RenderedResponse(error.status, dict(error.headers), body, JSON_MEDIA_TYPE)
