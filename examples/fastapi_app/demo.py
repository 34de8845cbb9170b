"""``make demo``: the FastAPI example on embedded defaults, with a seeded admin.

``python -m examples.fastapi_app.demo`` starts uvicorn on ``127.0.0.1:$PORT`` (8000 by
default) with a SQLite file in the working directory and in-memory Redis stand-ins,
applies the schema migrations to that file (``alembic upgrade head``, which a deployment
runs as a step of its own before the workers start), creates the admin from
``BACKENDKIT_BOOTSTRAP_ADMIN`` (or a development default), and prints the base URL, the
admin's credentials and three ``curl`` commands to try.

``BACKENDKIT_ENV`` defaults to ``development`` here (the services themselves default to
``production``, which refuses to start without real secrets).

One log line per request: uvicorn's access log is off (backendkit logs each request), and
uvicorn's own lines go through backendkit's logging like every other record.

uvicorn's proxy headers are off unless ``BACKENDKIT_TRUSTED_PROXIES`` is set, and then they
trust exactly that list: backendkit alone decides the client address (uvicorn would
otherwise believe ``X-Forwarded-For`` from 127.0.0.1, where the demo listens).
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from collections.abc import MutableMapping
from typing import Any

import uvicorn

from backendkit.clientip import TrustedProxies
from backendkit.settings import Settings
from examples._shared.config import (
    DEV_ADMIN_EMAIL,
    DEV_ADMIN_PASSWORD,
    ExampleConfig,
    load_config,
)
from examples._shared.migrate import upgrade_head
from examples.fastapi_app.main import create_app

__all__ = ["banner", "demo_environment", "main", "proxy_options", "server_config"]

HOST = "127.0.0.1"


def demo_environment(environ: MutableMapping[str, str]) -> None:
    """Fill in the demo's defaults (development mode, a seeded admin) where unset."""
    environ.setdefault("BACKENDKIT_ENV", "development")
    environ.setdefault("BACKENDKIT_BOOTSTRAP_ADMIN", f"{DEV_ADMIN_EMAIL}:{DEV_ADMIN_PASSWORD}")


def banner(config: ExampleConfig, host: str = HOST) -> str:
    """What the demo prints once it listens: URL, admin credentials, commands to try."""
    base = f"http://{host}:{config.port}"
    assert config.bootstrap_admin is not None
    email, password = config.bootstrap_admin
    body = shlex.quote(f'{{"email": "{email}", "password": "{password}"}}')
    login = (
        f"TOKEN=$(curl -s -X POST {base}/api/v1/auth/login "
        f"-H 'Content-Type: application/json' -d {body} "
        '| python3 -c \'import json,sys; print(json.load(sys.stdin)["data"]["accessToken"])\')'
    )
    me = f'curl -s {base}/api/v1/users/me -H "Authorization: Bearer $TOKEN"'
    users = (
        f"curl -s '{base}/api/v1/users?sort=-createdAt&perPage=5' "
        '-H "Authorization: Bearer $TOKEN"'
    )
    lines = [
        "",
        "backendkit demo (FastAPI example) is running",
        f"  base URL:  {base}   (API docs: {base}/docs, health: {base}/health)",
        f"  database:  {config.database_url}",
        f"  admin:     {email} / {password}",
        "",
        "Try it (bash or zsh):",
        "  # 1. log in as the admin and keep the access token",
        f"  {login}",
        "  # 2. who am I?",
        f"  {me}",
        "  # 3. list users, newest first",
        f"  {users}",
        "",
        "Stop with Ctrl+C.",
    ]
    if not config.settings.is_production:
        # backendkit logs its own development_signing_key warning when that key signs.
        lines += [
            "",
            "WARNING: development mode: never expose this service as it is. Set",
            "BACKENDKIT_ENV=production, BACKENDKIT_SECRET_KEY and BACKENDKIT_JWT_SECRET first",
            "(see examples/README.md).",
            "",
        ]
    return "\n".join(lines)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy-header options: off, or on for exactly ``settings.trusted_proxies``.

    backendkit resolves the client address itself, through the trusted proxies only; a
    server that rewrote the peer first would make that resolution moot.
    """
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    # The normalized entries (``10.0.0.1/32``): the same networks backendkit trusts.
    entries = list(TrustedProxies(settings.trusted_proxies).entries)
    return {"proxy_headers": True, "forwarded_allow_ips": entries}


def server_config(config: ExampleConfig, app: Any) -> uvicorn.Config:
    """The demo's uvicorn configuration for ``app``.

    uvicorn's own logging config is left out (``log_config=None``), so its startup lines go
    through backendkit's pipeline like every other record; its access log is off, because
    backendkit already logs one ``request_completed`` line per request.
    """
    return uvicorn.Config(
        app,
        host=HOST,
        port=config.port,
        log_config=None,
        access_log=False,
        **proxy_options(config.settings),
    )


class _DemoServer(uvicorn.Server):
    """uvicorn, printing the banner once the socket listens."""

    def __init__(self, config: uvicorn.Config, text: str) -> None:
        super().__init__(config)
        self._text = text

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            print(self._text, flush=True)


def main() -> None:
    """Start the demo (blocks until interrupted)."""
    demo_environment(os.environ)
    config = load_config("fastapi")
    app = create_app(config)  # configures logging: alembic's progress goes through it
    # One process on its own SQLite file: nothing to race, so the demo migrates it itself.
    upgrade_head("fastapi", config.async_database_url())
    server = _DemoServer(server_config(config, app), banner(config))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl+C: uvicorn has already shut down cleanly
        return
    if not server.started:  # the port was taken, or the app failed to start
        sys.exit(1)


if __name__ == "__main__":
    main()
