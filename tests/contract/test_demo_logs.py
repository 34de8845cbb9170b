"""``make demo`` logs one line per request, and uvicorn's own lines come out clean."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from tests.contract._servers import REPO, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _wait_for(log: Path, proc: subprocess.Popen[bytes], marker: str, timeout: float = 40.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        if marker in text:
            return text
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the demo never logged {marker!r}:\n{text[-3000:]}")
        time.sleep(0.1)


def test_the_demo_logs_each_request_once_without_escape_codes(tmp_path: Path) -> None:
    """One request to a path seen nowhere else: exactly one log line names it (backendkit's
    request_completed, not uvicorn's access line beside it); the startup lines carry no
    color_message field and no escape code."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKENDKIT_", "PYTEST"))}
    env.update({"PORT": str(port), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "examples.fastapi_app.demo"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(log, proc, "Stop with Ctrl+C.")
        path = f"/api/v1/one-line-{uuid.uuid4().hex}"
        response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30.0)
        assert response.status_code == 404
        request_id = response.headers["X-Request-ID"]
        text = _wait_for(log, proc, request_id)
        time.sleep(0.5)  # an access line written after ours would land by now
        text = log.read_text(errors="replace")
        lines = [line for line in text.splitlines() if path in line]
        assert len(lines) == 1, lines
        assert "request_completed" in lines[0]
        assert "Uvicorn running on" in text  # the server's own lines still come through
        assert "color_message" not in text
        assert "\x1b" not in text
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
