"""A renderer that wraps DRF response data in the success envelope."""

from __future__ import annotations

from typing import Any

from backendkit.responses import render_json, success

__all__ = ["ENVELOPE_ATTR", "EnvelopeJSONRenderer"]

#: Set to ``True`` on a DRF ``Response`` whose data already is an envelope (pages).
ENVELOPE_ATTR = "backendkit_envelope"


class EnvelopeJSONRenderer:
    """``{"success": true, "data": ...}`` around a view's data, rendered with pydantic-core;
    envelopes (pages, errors) as they are, ``204``/``304`` without a body. DRF's renderer
    interface, without ``BaseRenderer``, whose module needs configured settings at import."""

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
