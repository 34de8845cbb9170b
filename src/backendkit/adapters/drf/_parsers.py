"""A JSON parser that reads the body through the core: size cap while reading, no RecursionError."""

from __future__ import annotations

from typing import Any

from backendkit._extras import require

require("rest_framework", "drf")

from rest_framework.parsers import BaseParser  # type: ignore[import-untyped]  # noqa: E402

from backendkit.adapters.django._conf import get_kit  # noqa: E402
from backendkit.adapters.drf._exceptions import as_api_exception  # noqa: E402
from backendkit.errors import AppError  # noqa: E402
from backendkit.validation import parse_json  # noqa: E402
from backendkit.web import check_content_length, read_body  # noqa: E402

__all__ = ["JSONParser"]


class JSONParser(BaseParser):  # type: ignore[misc]
    """Parse ``application/json`` with [`parse_json`][backendkit.validation.parse_json].

    DRF's own ``JSONParser`` catches only ``ValueError``: deeply nested JSON escapes as a
    ``RecursionError`` and a 500. Here malformed or too-deep JSON is ``400 BAD_REQUEST``, a
    body over ``MAX_BODY_BYTES`` is ``413 PAYLOAD_TOO_LARGE`` (counted while reading).

    ```python
    REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": ["backendkit.adapters.drf.JSONParser"]}
    ```
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
