"""``make demo``: the FastAPI example starts on embedded defaults and its printed commands work."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.contract._servers import REPO, free_port

pytestmark = pytest.mark.slow


def _banner(log: Path, proc: subprocess.Popen[bytes], timeout: float = 40.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        if "Stop with Ctrl+C." in text:
            return text
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the demo did not start:\n{text[-3000:]}")
        time.sleep(0.1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed commands use curl")
def test_demo_starts_and_the_printed_commands_work_as_shown(tmp_path: Path) -> None:
    """Fresh directory, no configuration: URL, admin and three curl commands that work."""
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
        text = _banner(log, proc)
        assert f"http://127.0.0.1:{port}" in text
        assert "admin@example.com / admin-password-change-me" in text
        assert "WARNING: development mode" in text
        commands = [
            line.strip()
            for line in text.splitlines()
            if line.strip().startswith(("TOKEN=$(curl", "curl "))
        ]
        assert len(commands) == 3
        script = "set -euo pipefail\n" + "\n".join(f"{c}\necho" for c in commands)
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, capture_output=True, timeout=60, text=True
        )
        assert done.returncode == 0, done.stderr
        me, users = (json.loads(line) for line in done.stdout.splitlines() if line.strip())
        assert me["data"]["email"] == "admin@example.com"
        assert me["data"]["role"] == "admin"
        assert users["pagination"]["total"] == 1
        assert (tmp_path / "backendkit_fastapi.db").exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C, as a user stops it
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    assert proc.returncode == 0, log.read_text()[-2000:]
