"""A renderer that wraps DRF response data in the success envelope."""

from __future__ import annotations

from typing import Any

from backendkit._extras import require

require("rest_framework", "drf")

from backendkit.responses import render_json, success

__all__ = ["ENVELOPE_ATTR", "EnvelopeJSONRenderer"]

#: Set to ``True`` on a DRF ``Response`` whose data already is an envelope (pages).
ENVELOPE_ATTR = "backendkit_envelope"

_BODILESS = frozenset({204, 304})


class EnvelopeJSONRenderer:
    """Render ``{"success": true, "data": ...}`` around a view's data, with pydantic-core.

    Responses that already are envelopes (the pagination classes' pages, error responses)
    are rendered as they are; ``204``/``304`` have no body.

    ```python
    REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["backendkit.adapters.drf.EnvelopeJSONRenderer"]}
    ```

    It implements DRF's renderer interface without subclassing ``BaseRenderer``, whose
    module needs configured Django settings at import time.
    """

    media_type = "application/json"
    format = "json"
    charset = "utf-8"
    render_style = "text"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        """Render ``data`` (enveloped unless it already is one)."""
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code in _BODILESS:
            return b""
        if response is not None and (
            getattr(response, ENVELOPE_ATTR, False) or getattr(response, "exception", False)
        ):
            return render_json(data)
        return render_json(success(data))
