"""DRF pagination classes emitting backendkit's page and cursor envelopes.

Both delegate to the Django adapter's queryset helpers
([`paginate_queryset`][backendkit.adapters.django.paginate_queryset] and
[`paginate_queryset_cursor`][backendkit.adapters.django.paginate_queryset_cursor]); the
query parameters are validated by the core (400 ``VALIDATION_ERROR``, never clamped).
They implement DRF's pagination interface without subclassing ``BasePagination``, whose
module needs configured Django settings at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from backendkit._extras import require

require("rest_framework", "drf")

from rest_framework.response import Response  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.django._pagination import (
    paginate_queryset,
    paginate_queryset_cursor,
)
from backendkit.adapters.drf._renderers import ENVELOPE_ATTR
from backendkit.cursor import CursorCodec
from backendkit.pagination import (
    DEFAULT_MAX_PER_PAGE,
    DEFAULT_PER_PAGE,
    CursorPage,
    Page,
    cursor_params_model,
    page_params_model,
)
from backendkit.responses import paginated
from backendkit.validation import validate_query

__all__ = ["CursorPagination", "PagePagination"]

_PAGE_KEYS = ("page", "perPage", "per_page")
_CURSOR_KEYS = ("cursor", "perPage", "per_page")


def _query(request: Any, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    params = request.query_params
    return [(key, value) for key in keys for value in params.getlist(key)]


def _envelope(page: Page[Any] | CursorPage[Any], data: Any) -> Response:
    response = Response(paginated(_with_items(page, data)))
    setattr(response, ENVELOPE_ATTR, True)  # EnvelopeJSONRenderer must not wrap it again
    return response


def _with_items(page: Page[Any] | CursorPage[Any], data: Any) -> Page[Any] | CursorPage[Any]:
    items = list(data)
    if isinstance(page, Page):
        return Page(items, page.page, page.per_page, page.total, page.has_next)
    return CursorPage(
        items, page.per_page, page.next_cursor, page.prev_cursor, page.has_next, page.has_prev
    )


class _Sorting:
    #: Wire name -> model field (``{"createdAt": "created"}``); nothing else sorts.
    sort_fields: ClassVar[Mapping[str, str] | None] = None
    #: The sort when the client gives none (``"-createdAt"``).
    default_sort: ClassVar[str | None] = None
    #: The query parameter holding the client's sort.
    sort_param: ClassVar[str] = "sort"
    max_per_page: ClassVar[int] = DEFAULT_MAX_PER_PAGE
    default_per_page: ClassVar[int] = DEFAULT_PER_PAGE

    def _sort(self, request: Any) -> str | None:
        value = request.query_params.get(self.sort_param)
        return str(value) if value else None


class PagePagination(_Sorting):
    """Page-number pagination: ``?page=2&perPage=50&sort=-createdAt`` -> the page envelope.

    ```python
    class Articles(ListAPIView):
        pagination_class = PagePagination
    ```

    Subclass to set ``sort_fields``, ``default_sort``, ``max_per_page``,
    ``default_per_page`` or ``count`` (``"exact"``, ``"none"``, ``"estimated"``).
    """

    count: ClassVar[Literal["exact", "none", "estimated"]] = "exact"

    def __init__(self) -> None:
        self.page: Page[Any] | None = None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        """Read and validate the parameters, fetch one page and return its rows."""
        model = page_params_model(
            max_per_page=self.max_per_page, default_per_page=self.default_per_page
        )
        params = validate_query(model, _query(request, _PAGE_KEYS))
        self.page = paginate_queryset(
            queryset,
            params,
            sort=self._sort(request),
            sort_fields=self.sort_fields,
            default_sort=self.default_sort,
            count=self.count,
        )
        return list(self.page.items)

    def get_paginated_response(self, data: Any) -> Response:
        """The page envelope around the serialized rows."""
        assert self.page is not None, "paginate_queryset() comes first"
        return _envelope(self.page, data)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """OpenAPI schema of the page envelope (DRF's schema generation)."""
        return _schema(
            schema,
            {
                "page": {"type": "integer"},
                "perPage": {"type": "integer"},
                "total": {"type": "integer", "nullable": True},
                "totalPages": {"type": "integer", "nullable": True},
            },
        )


class CursorPagination(_Sorting):
    """Keyset pagination with signed cursors: ``?cursor=...&perPage=20`` -> the cursor envelope.

    Cursors are signed with keys derived from the kit's secret (``cursor`` purpose) and bound
    to the sort and the view, so a cursor made for another listing is refused (400).
    """

    def __init__(self) -> None:
        self.page: CursorPage[Any] | None = None

    def filters(self, request: Any, view: Any) -> Any:
        """What cursors are bound to besides the sort (default: the view's class name)."""
        return type(view).__qualname__ if view is not None else None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        """Read and validate the parameters, fetch one keyset page and return its rows."""
        model = cursor_params_model(
            max_per_page=self.max_per_page, default_per_page=self.default_per_page
        )
        params = validate_query(model, _query(request, _CURSOR_KEYS))
        self.page = paginate_queryset_cursor(
            queryset,
            params,
            codec=CursorCodec.from_settings(get_kit().settings),
            sort=self._sort(request),
            sort_fields=self.sort_fields,
            default_sort=self.default_sort,
            filters=self.filters(request, view),
        )
        return list(self.page.items)

    def get_paginated_response(self, data: Any) -> Response:
        """The cursor envelope around the serialized rows."""
        assert self.page is not None, "paginate_queryset() comes first"
        return _envelope(self.page, data)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """OpenAPI schema of the cursor envelope (DRF's schema generation)."""
        return _schema(
            schema,
            {
                "perPage": {"type": "integer"},
                "nextCursor": {"type": "string", "nullable": True},
                "prevCursor": {"type": "string", "nullable": True},
                "hasNext": {"type": "boolean"},
                "hasPrev": {"type": "boolean"},
            },
        )


def _schema(items: dict[str, Any], pagination: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "data", "pagination"],
        "properties": {
            "success": {"type": "boolean"},
            "data": items,
            "pagination": {"type": "object", "properties": pagination},
        },
    }
