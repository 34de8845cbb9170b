"""``make demo``: the FastAPI example starts on embedded defaults and its printed commands work."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from tests.contract._servers import demo_process

from backendkit.settings import Settings

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("curl") is None, reason="the printed commands use curl")
def test_demo_starts_and_the_printed_commands_work_as_shown(tmp_path: Path) -> None:
    """Fresh directory, no configuration: URL, admin and three curl commands that work."""
    with demo_process(tmp_path) as demo:
        text = demo.banner()
        assert f"http://127.0.0.1:{demo.port}" in text
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
    assert demo.proc.returncode == 0, demo.log.read_text()[-2000:]  # Ctrl+C: a clean stop


def test_the_demo_does_not_believe_a_spoofed_forwarded_for(tmp_path: Path) -> None:
    """Security review, finding 1: each wrong password from a new spoofed address still counts.

    The demo listens on 127.0.0.1, the address uvicorn trusts by default: unless the demo
    turns uvicorn's proxy headers off, every ``X-Forwarded-For`` becomes the client address
    and opens a fresh per-account budget. 5 wrong passwords, then 429 even for the right one.
    """
    with demo_process(tmp_path) as demo:
        demo.banner()
        with httpx.Client(base_url=demo.url, timeout=30.0) as client:

            def login(password: str, spoof: str) -> int:
                body = {"email": "admin@example.com", "password": password}
                response = client.post(
                    "/api/v1/auth/login", json=body, headers={"X-Forwarded-For": spoof}
                )
                return response.status_code

            wrong = [login("wrong-password", f"198.51.100.{i}") for i in range(1, 7)]
            right = login("admin-password-change-me", "198.51.100.99")
        assert wrong == [401] * 5 + [429]
        assert right == 429
        assert "client_address_rewritten" not in demo.log.read_text()


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", {"proxy_headers": False}),
        (
            "10.0.0.0/8, 192.168.1.1",
            {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "192.168.1.1/32"]},
        ),
    ],
)
def test_the_demo_server_trusts_exactly_backendkits_proxies(
    trusted: str, expected: dict[str, object]
) -> None:
    """uvicorn's proxy headers: off, or on for exactly BACKENDKIT_TRUSTED_PROXIES."""
    from examples.fastapi_app.demo import proxy_options

    assert proxy_options(Settings(env="test", trusted_proxies=trusted)) == expected


def test_the_demo_uvicorn_config_carries_the_proxy_options() -> None:
    """The configuration the demo runs is built with those options (no proxy headers here)."""
    from examples._shared.config import load_config
    from examples.fastapi_app.demo import demo_environment, server_config

    environ = {"PORT": "8123"}
    demo_environment(environ)
    config = load_config("fastapi", environ)
    server = server_config(config, app=object())
    assert server.proxy_headers is False
    assert (server.host, server.port) == ("127.0.0.1", 8123)
