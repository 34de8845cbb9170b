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

from backendkit.responses._envelopes import (
    JSON_MEDIA_TYPE,
    PROBLEM_MEDIA_TYPE,
    RenderedResponse,
    error_response,
    failure,
    json_response,
    paginated,
    pagination_meta,
    problem_details,
    render_json,
    success,
)
from backendkit.responses._openapi import (
    CursorInfo,
    CursorPageEnvelope,
    Envelope,
    ErrorEnvelope,
    ErrorInfo,
    FieldError,
    PageEnvelope,
    PageInfo,
    ProblemDetails,
)
from backendkit.responses._openapi_errors import (
    ERROR_RESPONSES,
    OperationStep,
    document_errors,
    operation_errors,
)

__all__ = [
    "ERROR_RESPONSES",
    "JSON_MEDIA_TYPE",
    "PROBLEM_MEDIA_TYPE",
    "CursorInfo",
    "CursorPageEnvelope",
    "Envelope",
    "ErrorEnvelope",
    "ErrorInfo",
    "FieldError",
    "OperationStep",
    "PageEnvelope",
    "PageInfo",
    "ProblemDetails",
    "RenderedResponse",
    "document_errors",
    "error_response",
    "failure",
    "json_response",
    "operation_errors",
    "paginated",
    "pagination_meta",
    "problem_details",
    "render_json",
    "success",
]
