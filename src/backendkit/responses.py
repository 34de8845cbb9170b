"""The wire format: success, error and page envelopes, problem+json, JSON rendering.

Every body backendkit writes has one of these shapes (camelCase keys)::

    {"success": true, "data": {...}, "message": "User retrieved successfully"}
    {"success": false, "error": {"code": "VALIDATION_ERROR", "message": "...",
                                 "details": [{"field": "email", "message": "..."}],
                                 "requestId": "..."}}
    {"success": true, "data": [...], "pagination": {"page": 1, "perPage": 20,
                                                    "total": 100, "totalPages": 5}}
    {"success": true, "data": [...], "pagination": {"perPage": 20, "nextCursor": "...",
                                                    "prevCursor": null, "hasNext": true,
                                                    "hasPrev": false}}

The builder functions return plain dicts; [`render_json`][backendkit.responses.render_json]
turns them into bytes with pydantic-core. The generic models (``Envelope[User]``, ...) exist
for OpenAPI: they describe the same shapes and get clean schema names (``UserEnvelope``).
"""

from __future__ import annotations

import http
import threading
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticSerializationError, to_json

from backendkit.errors import AppError, ErrorDetail, to_app_error
from backendkit.pagination import CursorPage, Page
from backendkit._error_details import field_title

__all__ = [
    "JSON_MEDIA_TYPE",
    "PROBLEM_MEDIA_TYPE",
    "CursorInfo",
    "CursorPageEnvelope",
    "Envelope",
    "ErrorEnvelope",
    "ErrorInfo",
    "FieldError",
    "PageEnvelope",
    "PageInfo",
    "ProblemDetails",
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

T = TypeVar("T")

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
        >>> from backendkit.pagination import Page
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


# --- models for OpenAPI -------------------------------------------------------------------


class _WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        field_title_generator=field_title,
        # In responses every field with a default is still always present.
        json_schema_serialization_defaults_required=True,
    )


def _type_name(tp: Any) -> str:
    """A schema-friendly name for a type argument: ``list[User]`` -> ``UserList``."""
    if tp is None or tp is type(None):
        return "Empty"
    if tp is Any:
        return "Any"
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Union or origin is types.UnionType:
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        prefix = "Optional" if type(None) in args else ""
        return prefix + "Or".join(names)
    if origin is Literal:
        return "Literal"
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return (_type_name(args[1]) if len(args) == 2 and args[1] is not Any else "") + "Dict"
    if isinstance(origin, type) and issubclass(origin, list | tuple | set | frozenset):
        return (_type_name(args[0]) if args and args[0] is not Any else "") + "List"
    name = getattr(tp, "__name__", None) or repr(tp)
    cleaned = "".join(part[:1].upper() + part[1:] for part in _split_words(name))
    return cleaned or "Any"


def _split_words(name: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in name).split()


# Concrete classes made for each parametrization, keyed by pydantic's parametrized class.
_NAMED: dict[type[BaseModel], type[BaseModel]] = {}
_NAMED_LOCK = threading.Lock()


class _NamedGeneric(_WireModel):
    """Makes ``Envelope[User]`` a concrete subclass named ``UserEnvelope``.

    Pydantic names the schema of a parametrized model after its origin and arguments
    (``Envelope_User_`` in OpenAPI). A plain subclass is named after itself, so each fully
    parametrized form is turned into one, cached, named ``<Arg><Origin>``.
    """

    def __class_getitem__(cls, typevar_values: Any) -> Any:
        parametrized = super().__class_getitem__(typevar_values)
        if not isinstance(parametrized, type):  # pragma: no cover - recursive generics
            return parametrized
        metadata = parametrized.__pydantic_generic_metadata__
        if metadata["parameters"] or not metadata["args"]:
            return parametrized  # still generic: Envelope[T]
        with _NAMED_LOCK:  # one class per parametrization, even when threads race
            named = _NAMED.get(parametrized)
            if named is None:
                origin = metadata["origin"] or cls
                named = create_model(
                    _type_name(metadata["args"][0]) + origin.__name__,
                    __base__=parametrized,
                    __module__=origin.__module__,
                    __doc__=origin.__doc__,
                )
                _NAMED[parametrized] = named
        return named


def _is_none(value: Any) -> bool:
    return value is None


class FieldError(_WireModel):
    """One field-level problem: ``{"field": "items[2].qty", "message": "..."}``."""

    field: str | None
    message: str

    @classmethod
    def from_detail(cls, detail: ErrorDetail) -> FieldError:
        """Convert an [`ErrorDetail`][backendkit.errors.ErrorDetail]."""
        return cls(field=detail.field, message=detail.message)


class ErrorInfo(_WireModel):
    """The ``error`` object of an error envelope."""

    code: str
    message: str
    details: list[FieldError] = []
    request_id: str | None = None


class ErrorEnvelope(_WireModel):
    """``{"success": false, "error": {...}}``."""

    success: Literal[False] = False
    error: ErrorInfo


class Envelope(_NamedGeneric, Generic[T]):
    """``{"success": true, "data": ..., "message": ...}``; ``Envelope[User]`` is ``UserEnvelope``."""  # noqa: E501

    success: Literal[True] = True
    data: T
    message: str | None = None


class PageInfo(_WireModel):
    """The ``pagination`` object of an offset page; ``hasNext`` appears only without a count."""

    page: int
    per_page: int
    total: int | None
    total_pages: int | None
    has_next: bool | None = Field(None, exclude_if=_is_none)

    @model_validator(mode="after")
    def _has_next_only_without_count(self) -> PageInfo:
        # The counted form is exactly page/perPage/total/totalPages (the wire format).
        if self.total is not None:
            self.has_next = None
        return self


class PageEnvelope(_NamedGeneric, Generic[T]):
    """``{"success": true, "data": [...], "pagination": {...}}``; named ``UserPageEnvelope``."""

    success: Literal[True] = True
    data: list[T]
    pagination: PageInfo


class CursorInfo(_WireModel):
    """The ``pagination`` object of a cursor page."""

    per_page: int
    next_cursor: str | None
    prev_cursor: str | None
    has_next: bool
    has_prev: bool


class CursorPageEnvelope(_NamedGeneric, Generic[T]):
    """A cursor page envelope; ``CursorPageEnvelope[User]`` is ``UserCursorPageEnvelope``."""

    success: Literal[True] = True
    data: list[T]
    pagination: CursorInfo


class ProblemDetails(_WireModel):
    """RFC 9457 problem details with backendkit's extension members."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, exclude_if=_is_none)
    code: str
    details: list[FieldError] = []
    request_id: str | None = None
