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
They and the error responses of an operation are imported on first use.
"""

# Private aliases keep the package namespace exactly what __all__ lists.
import typing as _typing

from backendkit._lazy import lazy_exports as _lazy_exports
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

if _typing.TYPE_CHECKING:
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


# The envelope models exist for OpenAPI documents and building them costs more than the rest
# of the package: an application that only writes envelopes never imports them.
_HOMES = {
    "CursorInfo": "backendkit.responses._openapi",
    "CursorPageEnvelope": "backendkit.responses._openapi",
    "Envelope": "backendkit.responses._openapi",
    "ErrorEnvelope": "backendkit.responses._openapi",
    "ErrorInfo": "backendkit.responses._openapi",
    "FieldError": "backendkit.responses._openapi",
    "PageEnvelope": "backendkit.responses._openapi",
    "PageInfo": "backendkit.responses._openapi",
    "ProblemDetails": "backendkit.responses._openapi",
    "ERROR_RESPONSES": "backendkit.responses._openapi_errors",
    "OperationStep": "backendkit.responses._openapi_errors",
    "document_errors": "backendkit.responses._openapi_errors",
    "operation_errors": "backendkit.responses._openapi_errors",
}

__getattr__, __dir__ = _lazy_exports(globals(), _HOMES)
