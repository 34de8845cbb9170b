"""A JSON parser that reads the body through the core: size cap while reading, no RecursionError."""

from __future__ import annotations

from typing import Any

from backendkit._extras import require

require("rest_framework", "drf")

from rest_framework.negotiation import (  # type: ignore[import-untyped]
    DefaultContentNegotiation,
)

from backendkit.adapters.django._conf import get_kit
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError
from backendkit.validation import parse_json
from backendkit.web import check_content_length, is_json_media_type, read_body

__all__ = ["ContentNegotiation", "JSONParser"]


class JSONParser:
    """Parse ``application/json`` with [`parse_json`][backendkit.validation.parse_json].

    DRF's own ``JSONParser`` catches only ``ValueError``: deeply nested JSON escapes as a
    ``RecursionError`` and a 500. Here malformed or too-deep JSON is ``400 BAD_REQUEST``, a
    body over ``MAX_BODY_BYTES`` is ``413 PAYLOAD_TOO_LARGE`` (counted while reading).

    ```python
    REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": ["backendkit.adapters.drf.JSONParser"]}
    ```

    It implements DRF's parser interface (``media_type``, ``parse``) without subclassing
    ``BaseParser``, whose module needs configured Django settings at import time.
    """

    media_type = "application/json"

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        """Read ``stream`` under the cap and parse it."""
        limit = get_kit().max_body_bytes
        request = (parser_context or {}).get("request")
        try:
            declared = (
                check_content_length(request.META.get("CONTENT_LENGTH"), limit)
                if request is not None
                else None
            )
            body = read_body(stream.read, limit=limit, content_length=declared)
            return parse_json(body, max_bytes=limit)
        except AppError as exc:
            raise as_api_exception(exc) from exc


class ContentNegotiation(DefaultContentNegotiation):  # type: ignore[misc]
    """DRF's negotiation, plus: ``application/*+json`` bodies go to the JSON parser.

    DRF matches parsers by exact media type, so ``application/merge-patch+json`` would be a
    415 even with a JSON parser installed; the core treats every ``+json`` type as JSON.

    ```python
    REST_FRAMEWORK = {
        "DEFAULT_CONTENT_NEGOTIATION_CLASS": "backendkit.adapters.drf.ContentNegotiation",
    }
    ```
    """

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        """The backendkit JSON parser for any JSON media type, else DRF's choice."""
        if is_json_media_type(request.content_type):
            for parser in parsers:
                if isinstance(parser, JSONParser):
                    return parser
        return super().select_parser(request, parsers)
