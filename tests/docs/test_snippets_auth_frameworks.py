"""The OIDC and one-time-token guides' per-framework samples (docs/snippets/oidc_*.py,
one_time_*.py) behave as the pages say, in FastAPI, Flask and Django (the checks are in
tests/docs/_auth_snippets.py; Django runs in its own interpreter, since its settings are
process-wide)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from tests.docs._auth_snippets import (
    Send,
    check_oidc,
    check_reset,
    load,
    oidc_kit,
    reset_world,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def fastapi_send(app: Any) -> Send:
    client = TestClient(app)

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        response = client.request(method, path, headers=headers, json=body)
        return response.status_code, response.json() if response.content else None

    return send


def flask_send(app: Any) -> Send:
    client = app.test_client()

    def send(method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, headers=headers, json=body)
        return response.status_code, response.get_json(silent=True)

    return send


def test_oidc_fastapi() -> None:
    """The FastAPI sample with the guide's kit."""
    kit = oidc_kit()
    check_oidc(kit, fastapi_send(load("oidc_fastapi").create_app(kit)))


def test_oidc_flask() -> None:
    """The Flask sample with the guide's kit."""
    kit = oidc_kit()
    check_oidc(kit, flask_send(load("oidc_flask").create_app(kit)))


def test_reset_fastapi() -> None:
    """The FastAPI sample, on the async methods."""
    kit, world = oidc_kit(), reset_world(asynchronous=True)
    app = load("one_time_fastapi").create_app(kit, *world.parts(asynchronous=True))
    check_reset(kit, world, fastapi_send(app))


def test_reset_flask() -> None:
    """The Flask sample."""
    kit, world = oidc_kit(), reset_world(asynchronous=False)
    app = load("one_time_flask").create_app(kit, *world.parts(asynchronous=False))
    check_reset(kit, world, flask_send(app))


_DJANGO = """
import json, sys, types
import django
from django.conf import settings
from tests.docs._auth_snippets import check_oidc, check_reset, load, oidc_kit, reset_world

kit, world = oidc_kit(), reset_world(asynchronous=False)
urls = types.ModuleType("auth_samples_urls")
urls.urlpatterns = [
    *load("oidc_django").urlpatterns,
    *load("one_time_django").reset_urls(*world.parts(asynchronous=False)),
]
sys.modules[urls.__name__] = urls
settings.configure(
    DEBUG=False, SECRET_KEY="x" * 50, ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=["backendkit.adapters.django"], ROOT_URLCONF=urls.__name__,
    MIDDLEWARE=["backendkit.adapters.django.BackendKitMiddleware"], APPEND_SLASH=False,
    BACKENDKIT={"KIT": kit, "API_PREFIXES": ["/api/"]},
)
django.setup()
from django.test import Client

client = Client(raise_request_exception=False)


def send(method, path, headers, body):
    data = "" if body is None else json.dumps(body)
    response = client.generic(
        method, path, data=data, content_type="application/json", headers=headers
    )
    return response.status_code, json.loads(response.content) if response.content else None


check_oidc(kit, send)
check_reset(kit, world, send)
print("CHECKED")
"""


def test_oidc_and_reset_django() -> None:
    """The Django samples: both checks in one interpreter configured for them."""
    result = subprocess.run(
        [sys.executable, "-c", _DJANGO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "CHECKED"
