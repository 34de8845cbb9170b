"""OpenAPI 3.0 schemas of the page and cursor envelopes, for frameworks that write their own
documents (DRF's schema generation asks each paginator for one)."""

from __future__ import annotations

from typing import Any

__all__ = ["CURSOR_PAGINATION", "PAGE_PAGINATION", "page_envelope_schema"]

#: The ``pagination`` object of a page-number envelope.
PAGE_PAGINATION: dict[str, Any] = {
    "page": {"type": "integer"},
    "perPage": {"type": "integer"},
    "total": {"type": "integer", "nullable": True},
    "totalPages": {"type": "integer", "nullable": True},
}
#: The ``pagination`` object of a cursor envelope.
CURSOR_PAGINATION: dict[str, Any] = {
    "perPage": {"type": "integer"},
    "nextCursor": {"type": "string", "nullable": True},
    "prevCursor": {"type": "string", "nullable": True},
    "hasNext": {"type": "boolean"},
    "hasPrev": {"type": "boolean"},
}


def page_envelope_schema(data: dict[str, Any], *, cursor: bool = False) -> dict[str, Any]:
    """The envelope of a page whose ``data`` is described by ``data`` (a list schema).

    Example:
        >>> schema = page_envelope_schema({"type": "array"}, cursor=True)
        >>> schema["required"], sorted(schema["properties"]["pagination"]["properties"])[:2]
        (['success', 'data', 'pagination'], ['hasNext', 'hasPrev'])
    """
    pagination = CURSOR_PAGINATION if cursor else PAGE_PAGINATION
    return {
        "type": "object",
        "required": ["success", "data", "pagination"],
        "properties": {
            "success": {"type": "boolean"},
            "data": data,
            "pagination": {"type": "object", "properties": dict(pagination)},
        },
    }
