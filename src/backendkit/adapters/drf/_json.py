"""JSON in and out: a parser that reads through the core, the negotiation that picks it, a
renderer that wraps view data in the success envelope, and paginators that emit the page and
cursor envelopes (their query parameters read by [`backendkit.listing`][backendkit.listing]:
400 ``VALIDATION_ERROR``, never clamped). They implement DRF's interfaces without its base
classes, whose modules need configured settings at import time."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from rest_framework.negotiation import DefaultContentNegotiation  # type: ignore[import-untyped]
from rest_framework.response import Response  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.django._listing import paginate_queryset, paginate_queryset_cursor
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError
from backendkit.listing import (
    DEFAULT_MAX_PER_PAGE,
    DEFAULT_PER_PAGE,
    CursorCodec,
    CursorPage,
    Page,
    cursor_params,
    cursor_params_model,
    page_params,
    page_params_model,
)
from backendkit.listing._paging import Counting
from backendkit.listing._schema import page_envelope_schema
from backendkit.responses import paginated, render_json, success
from backendkit.validation import parse_json
from backendkit.web import check_content_length, is_json_media_type, read_body

__all__ = [
    "ENVELOPE_ATTR",
    "ContentNegotiation",
    "CursorPagination",
    "EnvelopeJSONRenderer",
    "JSONParser",
    "PagePagination",
]

#: Set to ``True`` on a DRF ``Response`` whose data already is an envelope (pages).
ENVELOPE_ATTR = "backendkit_envelope"


class EnvelopeJSONRenderer:
    """``{"success": true, "data": ...}`` around a view's data, rendered with pydantic-core;
    envelopes (pages, errors) as they are, ``204``/``304`` without a body."""

    media_type = "application/json"
    format = "json"
    charset = "utf-8"
    render_style = "text"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        """Render ``data`` (enveloped unless it already is one)."""
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code in (204, 304):
            return b""
        done = getattr(response, ENVELOPE_ATTR, False) or getattr(response, "exception", False)
        return render_json(data if done else success(data))


class JSONParser:
    """``application/json`` parsed by [`parse_json`][backendkit.validation.parse_json]:
    ``413`` past ``MAX_BODY_BYTES`` (counted while reading), ``400`` for malformed or too
    deep JSON (DRF's own parser lets a ``RecursionError`` through as a 500)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Read ``stream`` under the cap and parse it."""
        limit, request = current_kit().max_body_bytes, (parser_context or {}).get("request")
        declared = None if request is None else request.META.get("CONTENT_LENGTH")
        try:
            length = check_content_length(declared, limit)
            return parse_json(
                read_body(stream.read, limit=limit, content_length=length), max_bytes=limit
            )
        except AppError as exc:
            raise as_api_exception(exc) from exc


class ContentNegotiation(DefaultContentNegotiation):  # type: ignore[misc]
    """DRF's negotiation, sending every JSON type (``application/merge-patch+json``) to the
    JSON parser: DRF matches parsers by exact media type."""

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        """The backendkit JSON parser for any JSON media type, else DRF's choice."""
        if is_json_media_type(request.content_type):
            for parser in parsers:
                if isinstance(parser, JSONParser):
                    return parser
        return super().select_parser(request, parsers)


class _Pagination:
    # What subclasses set: the sort allowlist (wire name -> model field), the sort when the
    # client gives none (``"-createdAt"``), the query parameter holding it, the page sizes.
    sort_fields: ClassVar[Mapping[str, str] | None] = None
    default_sort: ClassVar[str | None] = None
    sort_param: ClassVar[str] = "sort"
    max_per_page: ClassVar[int] = DEFAULT_MAX_PER_PAGE
    default_per_page: ClassVar[int] = DEFAULT_PER_PAGE
    _cursor: ClassVar[bool] = False
    page: Page[Any] | CursorPage[Any] | None = None  # this request's, once read

    def _options(self, request: Any) -> dict[str, Any]:
        value = request.query_params.get(self.sort_param)
        sort = str(value) if value else None
        return {"sort": sort, "sort_fields": self.sort_fields, "default_sort": self.default_sort}

    def _limits(self) -> dict[str, int]:
        return {"max_per_page": self.max_per_page, "default_per_page": self.default_per_page}

    def get_paginated_response(self, data: Any) -> Response:
        """The envelope around the serialized rows of the page."""
        assert self.page is not None, "paginate_queryset() comes first"
        response = Response(paginated(dataclasses.replace(self.page, items=list(data))))
        setattr(response, ENVELOPE_ATTR, True)  # EnvelopeJSONRenderer must not wrap it again
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """OpenAPI schema of the envelope (DRF's schema generation)."""
        return page_envelope_schema(schema, cursor=self._cursor)


class PagePagination(_Pagination):
    """Page-number pagination: ``?page=2&perPage=50&sort=-createdAt`` -> the page envelope.
    Subclass to set ``sort_fields``, ``default_sort``, ``max_per_page``,
    ``default_per_page`` or ``count`` (``"exact"``, ``"none"``, ``"estimated"``)."""

    count: ClassVar[Counting] = "exact"

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        """Read and validate the parameters, fetch one page and return its rows."""
        params = page_params(request.query_params, model=page_params_model(**self._limits()))
        self.page = paginate_queryset(queryset, params, count=self.count, **self._options(request))
        return list(self.page.items)


class CursorPagination(_Pagination):
    """Keyset pagination: ``?cursor=...&perPage=20`` -> the cursor envelope. Cursors are
    signed with the kit's secret and bound to the sort and the view (``filters``): one made
    for another listing is refused (400)."""

    _cursor: ClassVar[bool] = True

    def filters(self, request: Any, view: Any) -> Any:
        """What cursors are bound to besides the sort (default: the view's class name)."""
        return type(view).__qualname__ if view is not None else None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        """Read and validate the parameters, fetch one keyset page and return its rows."""
        params = cursor_params(request.query_params, model=cursor_params_model(**self._limits()))
        self.page = paginate_queryset_cursor(
            queryset,
            params,
            codec=CursorCodec.from_settings(current_kit().settings),
            filters=self.filters(request, view),
            **self._options(request),
        )
        return list(self.page.items)
