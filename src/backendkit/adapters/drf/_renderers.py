"""JSON in and out: a parser that reads through the core, the negotiation that picks it,
and a renderer that wraps view data in the success envelope. They implement DRF's
interfaces without its base classes, whose modules need configured settings at import."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation  # type: ignore[import-untyped]

from backendkit.adapters.django._conf import current_kit
from backendkit.adapters.drf._exceptions import as_api_exception
from backendkit.errors import AppError
from backendkit.responses import render_json, success
from backendkit.validation import parse_json
from backendkit.web import check_content_length, is_json_media_type, read_body

__all__ = ["ENVELOPE_ATTR", "ContentNegotiation", "EnvelopeJSONRenderer", "JSONParser"]

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
        if response is None:
            return render_json(success(data))
        if response.status_code in (204, 304):
            return b""
        if getattr(response, ENVELOPE_ATTR, False) or getattr(response, "exception", False):
            return render_json(data)
        return render_json(success(data))


class JSONParser:
    """``application/json`` parsed by [`parse_json`][backendkit.validation.parse_json]:
    ``413`` past ``MAX_BODY_BYTES`` (counted while reading), ``400`` for malformed or too
    deep JSON (DRF's own parser lets a ``RecursionError`` through as a 500)."""

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
