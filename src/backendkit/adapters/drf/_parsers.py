"""A JSON parser that reads the body through the core, and the negotiation that picks it."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError
from backendkit.validation import parse_json
from backendkit.web import check_content_length, is_json_media_type, read_body

__all__ = ["ContentNegotiation", "JSONParser"]


class JSONParser:
    """``application/json`` parsed by [`parse_json`][backendkit.validation.parse_json]:
    ``413`` past ``MAX_BODY_BYTES`` (counted while reading), ``400`` for malformed or too
    deep JSON (DRF's own parser lets a ``RecursionError`` through as a 500). DRF's parser
    interface, without ``BaseParser``, whose module needs configured settings at import."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        """Read ``stream`` under the cap and parse it."""
        limit = current_kit().max_body_bytes
        request = (parser_context or {}).get("request")
        try:
            length = None if request is None else request.META.get("CONTENT_LENGTH")
            body = read_body(
                stream.read, limit=limit, content_length=check_content_length(length, limit)
            )
            return parse_json(body, max_bytes=limit)
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
