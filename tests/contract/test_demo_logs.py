"""``make demo`` logs one line per request, and uvicorn's own lines come out clean."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest
from tests.contract._servers import demo_process

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_the_demo_logs_each_request_once_without_escape_codes(tmp_path: Path) -> None:
    """One request to a path seen nowhere else: exactly one log line names it (backendkit's
    request_completed, not uvicorn's access line beside it); the startup lines carry no
    color_message field and no escape code."""
    with demo_process(tmp_path) as demo:
        demo.wait_for("Stop with Ctrl+C.")
        path = f"/api/v1/one-line-{uuid.uuid4().hex}"
        response = httpx.get(f"{demo.url}{path}", timeout=30.0)
        assert response.status_code == 404
        request_id = response.headers["X-Request-ID"]
        text = demo.wait_for(request_id)
        time.sleep(0.5)  # an access line written after ours would land by now
        text = demo.log.read_text(errors="replace")
        lines = [line for line in text.splitlines() if path in line]
        assert len(lines) == 1, lines
        assert "request_completed" in lines[0]
        assert "Uvicorn running on" in text  # the server's own lines still come through
        assert "color_message" not in text
        assert "\x1b" not in text
